"""How `mediaplane encore` shows things: progress bars while jobs run and files move, jobs and their outputs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TransferSpeedColumn,
)

from mediaplane.cli.errors import CliError
from mediaplane.cli.output import Output, short_time
from mediaplane.services.encore.cli_api import JSON, EncoreApi

TERMINAL = frozenset({"SUCCESSFUL", "FAILED", "CANCELLED"})
POLL_SECONDS = 0.5


@contextmanager
def transfer_bar(out: Output, label: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A byte progress bar on stderr when it is a terminal and the size is worth one; else a no-op."""
    if total is None or not out.stderr.is_interactive:
        yield lambda _: None
        return
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(binary_units=True), TransferSpeedColumn())
    with Progress(*columns, console=out.stderr, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda n: progress.advance(task, n)


def speed_text(job: JSON) -> str:
    speed = job.get("speed")
    return f"{speed:g}x" if isinstance(speed, int | float) else ""


def poll(api: EncoreApi, job_id: str) -> Iterator[JSON]:
    """The job, read every POLL_SECONDS until it has ended (the last one yielded has ended)."""
    while True:
        job = api.job(job_id)
        yield job
        if job.get("status") in TERMINAL:
            return
        time.sleep(POLL_SECONDS)


def follow(api: EncoreApi, job_id: str, out: Output, name: str) -> JSON:
    """Follows the job until it ends: a live progress bar on a terminal, a line per status change elsewhere."""
    job: JSON = {}
    try:
        if out.stderr.is_interactive:
            columns = (
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TextColumn("{task.fields[speed]:>8}"),
                TextColumn("{task.fields[status]}"),
                TimeElapsedColumn(),
            )
            with Progress(*columns, console=out.stderr) as progress:
                task = progress.add_task(f"Job {job_id[:8]}", total=100, speed="", status="")
                for job in poll(api, job_id):
                    completed = int(job.get("progress") or 0)
                    progress.update(task, completed=completed, speed=speed_text(job), status=job.get("status"))
        else:
            last = None
            for job in poll(api, job_id):
                if job.get("status") != last:
                    last = job.get("status")
                    out.message(f"Job {job_id}: {last} ({job.get('progress') or 0} %)")
    except KeyboardInterrupt:
        out.message(
            f"Stopped following; the job goes on. Follow it again with: mediaplane encore watch {name} {job_id}"
        )
        raise typer.Exit(130) from None
    return job


def finish(job: JSON, out: Output) -> None:
    """The ended job: its JSON or summary and outputs; exit 1 when it did not succeed."""
    status = job.get("status")
    if out.json_mode:
        out.json(job)
    elif status == "SUCCESSFUL":
        out.fields(job_summary(job))
        show_outputs(job, out)
    if status == "SUCCESSFUL":
        return
    message = f"Job {job.get('id')} {status}" + (f": {job['message']}" if job.get("message") else "")
    if out.json_mode:
        out.message(message)
        raise typer.Exit(1)
    raise CliError(message)


def human_size(size: Any) -> str | None:
    if not isinstance(size, int | float):
        return None
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return None  # pragma: no cover - the loop always returns


def human_bitrate(bits: Any) -> str | None:
    return f"{bits / 1000:.0f} kb/s" if isinstance(bits, int | float) else None


def resolution(output: JSON) -> str | None:
    if output.get("type") == "ImageFile":
        return f"{output.get('width')}x{output.get('height')}"
    for stream in output.get("videoStreams") or []:
        return f"{stream.get('width')}x{stream.get('height')}"
    return None


def job_summary(job: JSON) -> JSON:
    keys = ("id", "status", "progress", "speed", "message", "profile", "externalId", "priority", "outputFolder")
    summary = {key: job.get(key) for key in keys if job.get(key) is not None}
    summary["baseName"] = job.get("baseName")
    for key in ("createdDate", "startedDate", "completedDate"):
        if job.get(key):
            summary[key] = short_time(job[key])
    if job.get("packages"):
        summary["packages"] = job["packages"]
    return summary


def job_row(job: JSON) -> list[Any]:
    keys = ("id", "status", "progress", "profile", "baseName", "createdDate")
    row = [job.get(key) for key in keys]
    row[2], row[5] = f"{row[2] or 0} %", short_time(row[5])
    return row


def show_outputs(job: JSON, out: Output) -> None:
    out.table(
        ["File", "Type", "Resolution", "Bitrate", "Duration", "Size"],
        (
            [
                o.get("file"),
                o.get("type"),
                resolution(o),
                human_bitrate(o.get("overallBitrate")),
                f"{o['duration']:.2f} s" if isinstance(o.get("duration"), int | float) else None,
                human_size(o.get("fileSize")),
            ]
            for o in job.get("output") or []
        ),
        title="Outputs",
        empty="No outputs.",
        no_wrap=("File",),
    )


def show_job(job: JSON, out: Output) -> None:
    out.fields(job_summary(job))
    out.table(
        ["URI", "Type", "Params"],
        ([i.get("uri"), i.get("type"), i.get("params") or None] for i in job.get("inputs") or []),
        title="Inputs",
        no_wrap=("URI",),
    )
    show_outputs(job, out)
