"""Run ffmpeg as an asyncio subprocess: progress reports, cancellation, and errors with context."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from mediaplane.kit.ffmpeg.errors import FFmpegCancelled, FFmpegError
from mediaplane.kit.ffmpeg.locate import find_ffmpeg
from mediaplane.kit.ffmpeg.progress import Progress, ProgressReader

__all__ = ["FFmpegResult", "ProgressCallback", "run_ffmpeg"]

log = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], Awaitable[None] | None]

STDERR_TAIL_BYTES = 16 * 1024
STDERR_TAIL_LINES = 40


@dataclass(frozen=True, slots=True)
class FFmpegResult:
    argv: list[str]
    """The full command line that ran."""
    returncode: int
    progress: Progress | None
    """The last progress report (``done`` is True when FFmpeg got to write it)."""
    stderr_tail: str
    """The last lines FFmpeg logged."""


class _Tail:
    """The last bytes of a stream, as the last lines of text."""

    def __init__(self, limit: int = STDERR_TAIL_BYTES) -> None:
        self._buffer = bytearray()
        self._limit = limit

    def add(self, data: bytes) -> None:
        self._buffer += data
        if len(self._buffer) > 2 * self._limit:
            del self._buffer[: -self._limit]

    def text(self, lines: int = STDERR_TAIL_LINES) -> str:
        text = self._buffer[-self._limit :].decode(errors="replace")
        return "\n".join(text.replace("\r", "\n").splitlines()[-lines:])


async def _stop(process: asyncio.subprocess.Process, grace: float) -> None:
    """SIGTERM (ffmpeg then finishes the file it writes), and SIGKILL after ``grace`` seconds."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        log.warning("ffmpeg (pid %s) ignored SIGTERM for %.1fs; killing it", process.pid, grace)
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _cleanup(process: asyncio.subprocess.Process, tasks: list[asyncio.Task[Any]], grace: float) -> None:
    await _stop(process, grace)
    # The pipes reach EOF once the process is gone; give the readers a moment to drain them.
    _done, pending = await asyncio.wait(tasks[:3], timeout=grace)
    for task in [*pending, *tasks[3:]]:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def run_ffmpeg(
    args: Sequence[str],
    *,
    on_progress: ProgressCallback | None = None,
    duration: float | None = None,
    cancel: asyncio.Event | None = None,
    ffmpeg: str | None = None,
    grace: float = 5.0,
) -> FFmpegResult:
    """Run ``ffmpeg <args>`` and wait for it.

    The command line is ``ffmpeg -hide_banner -nostdin -nostats -progress pipe:1 <args>``: stdout
    carries the progress reports, so ``args`` must not write media to ``pipe:1``. ``on_progress``
    (plain or async) gets every report, with ``percent`` when ``duration`` (the expected output
    length in seconds) is given; the last report (``done``, 100 %) comes only after a successful
    exit, and none come once the run is being stopped. ``ffmpeg`` is a configured binary for
    :func:`find_ffmpeg`.

    Raises :class:`FFmpegError` on a non-zero exit, :class:`FFmpegCancelled` when ``cancel`` is set
    (the process gets SIGTERM, then SIGKILL after ``grace`` seconds), and whatever ``on_progress``
    raises, after stopping the process. If the calling task is cancelled, the process is stopped
    the same way before the cancellation propagates. No ffmpeg process outlives this call.
    """
    if cancel is not None and cancel.is_set():
        raise FFmpegCancelled()
    argv = [find_ffmpeg(ffmpeg), "-hide_banner", "-nostdin", "-nostats", "-progress", "pipe:1", *args]
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    stdout, stderr = process.stdout, process.stderr
    tail = _Tail()
    last: Progress | None = None
    final: Progress | None = None
    stopping = False

    async def deliver(progress: Progress) -> None:
        if on_progress is not None:
            outcome = on_progress(progress)
            if inspect.isawaitable(outcome):
                await outcome

    async def read_progress() -> None:
        nonlocal last, final
        reader = ProgressReader(duration)
        while line := await stdout.readline():
            progress = reader.feed(line.decode(errors="replace"))
            if progress is None or stopping:
                continue
            if progress.done:
                # FFmpeg also writes its last block when it fails or is stopped: the 100 % report
                # is delivered only once the exit status says the run succeeded.
                final = progress
                continue
            last = progress
            await deliver(progress)

    async def read_stderr() -> None:
        while data := await stderr.read(65536):
            tail.add(data)

    progress_task = asyncio.create_task(read_progress())
    stderr_task = asyncio.create_task(read_stderr())
    exited = asyncio.create_task(process.wait())
    cancelled = asyncio.create_task(cancel.wait()) if cancel is not None else None
    was_cancelled = False
    try:
        pending: set[asyncio.Task[Any]] = {progress_task, exited}
        if cancelled is not None:
            pending.add(cancelled)
        while progress_task in pending or exited in pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            if cancelled in done:
                was_cancelled = True
                break
            if progress_task in done:
                progress_task.result()  # re-raises what on_progress raised
    finally:
        # On success, cancel, on_progress errors and task cancellation alike: no process or task is left.
        stopping = True
        tasks = [progress_task, stderr_task, exited] + ([cancelled] if cancelled is not None else [])
        cleanup = asyncio.create_task(_cleanup(process, tasks, grace))
        try:
            await asyncio.shield(cleanup)
        except asyncio.CancelledError:
            # Cancelled while FFmpeg stops: it still stops (SIGKILL after `grace`) before this returns.
            await asyncio.wait({cleanup})
            raise
    if was_cancelled:
        raise FFmpegCancelled(returncode=process.returncode, progress=last)
    returncode = exited.result()
    if returncode != 0:
        raise FFmpegError(returncode, tail.text(), argv=argv)
    if final is not None:
        last = final
        await deliver(final)
    return FFmpegResult(argv=argv, returncode=returncode, progress=last, stderr_tail=tail.text())
