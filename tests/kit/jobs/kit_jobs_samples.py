"""Jobs the kit.jobs tests run, in the test process and in worker processes (`worker_main.py`).

They talk to the test through files, which works across threads and processes alike.
"""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from mediaplane.kit.jobs import JobContext, JobDeferred, job


def append(path: str, line: str) -> None:
    with open(path, "a") as file:
        file.write(line + "\n")


def count_lines(path: str) -> int:
    return len(Path(path).read_text().splitlines())


def exists(path: str) -> bool:
    return Path(path).exists()


async def wait_for_file(path: str) -> None:
    while not exists(path):  # noqa: ASYNC110  (the file comes from the test, maybe in another process)
        await asyncio.sleep(0.05)


@job("samples.record")
async def record(ctx: JobContext, *, path: str, tag: str) -> dict[str, Any]:
    append(path, tag)
    return {"tag": tag}


@job("samples.wait")
async def wait(ctx: JobContext, *, started: str, release: str) -> dict[str, Any]:
    """Says it started (attempt and pid), reports half way, then waits for the test to release it."""
    append(started, f"{ctx.attempt} {os.getpid()}")
    await ctx.progress(50, step="half")
    await wait_for_file(release)
    return {"attempt": ctx.attempt, "pid": os.getpid()}


@job("samples.block")
async def block(ctx: JobContext, *, marker: str) -> None:
    """Runs until cancelled; writes whether ctx.cancelled was set when the interruption came."""
    append(marker, "started")
    try:
        await asyncio.Event().wait()  # forever
    except asyncio.CancelledError:
        append(marker + ".cancelled", str(ctx.cancelled.is_set()))
        raise


@job("samples.fail", max_attempts=3)
async def fail(ctx: JobContext, *, path: str, succeed_on: int = 0) -> dict[str, Any]:
    """Fails (ValueError) on every attempt before `succeed_on` (0: always); logs attempt and time."""
    append(path, f"{ctx.attempt} {time.time()}")
    if succeed_on and ctx.attempt >= succeed_on:
        return {"attempt": ctx.attempt}
    raise ValueError("boom")


@job("samples.defer", max_attempts=1)
async def defer(ctx: JobContext, *, path: str, times: int) -> dict[str, Any]:
    """Defers itself `times` times, then succeeds; logs every run."""
    append(path, f"{ctx.attempt} {time.time()}")
    runs = count_lines(path)
    if runs <= times:
        raise JobDeferred(0.1, "not yet")
    return {"runs": runs, "attempt": ctx.attempt}


@job("samples.slow", max_attempts=1, timeout=0.2)
async def slow(ctx: JobContext) -> None:
    await asyncio.sleep(60)
