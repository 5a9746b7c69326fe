"""`mediaplane encore ...`: enqueue, follow, list and cancel the jobs of an encore instance, read its profiles,
and move files in and out of its storage area (`/usercontent/...`).

The CLI imports this module whenever it looks for service commands, so it and its `cli_api` and `cli_view`
import only typer, rich, httpx and the CLI's own helpers, never the server side of the service.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import urlsplit

import typer

from mediaplane.cli.errors import CliError
from mediaplane.cli.output import Output, short_time
from mediaplane.cli.state import CliState
from mediaplane.services.encore.cli_api import CHUNK, JSON, SERVICE_ID, EncoreApi, encore_api
from mediaplane.services.encore.cli_view import (
    finish,
    follow,
    human_size,
    job_row,
    job_summary,
    show_job,
    transfer_bar,
)
from mediaplane.services.encore.status import Status

BIG_FILE = 8 << 20  # uploads below this size finish before a progress bar would be worth drawing
UPLOAD_FOLDER = "/usercontent/uploads"
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


class InputType(StrEnum):
    AUDIO_VIDEO = "AudioVideo"
    VIDEO = "Video"
    AUDIO = "Audio"


class PackageFormat(StrEnum):
    HLS = "hls"
    DASH = "dash"


# -- the job body ----------------------------------------------------------------------------------


def input_stem(uri: str) -> str:
    """The file name of an input without its extension, in characters safe in a path: `a b.mp4` → `a_b`."""
    path = urlsplit(uri).path if SCHEME.match(uri) else uri
    stem = PurePosixPath(path.replace("\\", "/")).stem
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem).strip("._") or "job"


def parse_params(pairs: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise CliError(f"Invalid --param {pair!r}: expected key=value")
        params[key.strip()] = value
    return params


def job_body(
    *,
    profile: str,
    inputs: list[str],
    input_type: InputType = InputType.AUDIO_VIDEO,
    output_folder: str | None = None,
    base_name: str | None = None,
    priority: int | None = None,
    external_id: str | None = None,
    callback: str | None = None,
    params: dict[str, str] | None = None,
    seek_to: float | None = None,
    duration: float | None = None,
    segment_length: float | None = None,
    packages: list[PackageFormat] | None = None,
) -> JSON:
    """Encore's EncoreJob body; base name `<stem>_` of the first input and folder `/usercontent/<stem>` by default."""
    if not inputs:
        raise CliError("Give at least one --input")
    stem = input_stem(inputs[0])
    base = base_name or f"{stem}_"
    body: JSON = {
        "profile": profile,
        "outputFolder": output_folder or f"/usercontent/{base.rstrip('_') or stem}",
        "baseName": base,
        "inputs": [{"uri": uri, "type": input_type.value} for uri in inputs],
    }
    optional = {
        "priority": priority,
        "externalId": external_id,
        "progressCallbackUri": callback,
        "profileParams": params or None,
        "seekTo": seek_to,
        "duration": duration,
        "segmentLength": segment_length,
        "packageFormats": [p.value for p in packages] if packages else None,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    return body


def is_local_file(uri: str) -> bool:
    return not SCHEME.match(uri) and Path(uri).expanduser().is_file()


def check_inputs(inputs: list[str]) -> None:
    """A plain path must be a local file or in the instance's storage: anything else cannot be read by a job."""
    if not inputs:
        raise CliError("Give at least one --input (a URI, a /usercontent/ path or a local file)")
    for uri in inputs:
        if not SCHEME.match(uri) and not uri.lstrip("/").startswith("usercontent/") and not is_local_file(uri):
            raise CliError(f"No such file: {uri} (an input is a local file, a URL or a /usercontent/ path)")


def upload_inputs(api: EncoreApi, inputs: list[str], out: Output) -> list[str]:
    """Local files are uploaded to `/usercontent/uploads/<name>` first; other inputs are kept as given."""
    uris = []
    for uri in inputs:
        if not is_local_file(uri):
            uris.append(uri)
            continue
        path = Path(uri).expanduser()
        target = f"{UPLOAD_FOLDER}/{path.name}"
        size = path.stat().st_size
        with transfer_bar(out, f"Uploading {path.name}", size if size >= BIG_FILE else None) as advance:
            stored = api.upload(path, target, advance)
        out.message(f"Uploaded {path} to {stored.get('uri', target)} ({human_size(size)})")
        uris.append(str(stored.get("uri") or target))
    return uris


# -- commands --------------------------------------------------------------------------------------

NAME = typer.Argument(..., metavar="NAME", help="Name of the encore instance")
JOB_ID = typer.Argument(..., metavar="JOB_ID", help="Id of the job")


def enqueue(
    ctx: typer.Context,
    name: str = NAME,
    profile: str = typer.Option("program", "--profile", "-p", help="Profile name from the instance's index"),
    inputs: list[str] = typer.Option(
        [], "--input", "-i", metavar="URI", help="Input URI, /usercontent/ path or local file (uploaded); repeatable"
    ),
    input_type: InputType = typer.Option(InputType.AUDIO_VIDEO, "--type", help="Type of every input"),
    output_folder: str | None = typer.Option(
        None, "--output-folder", help="Where outputs go (default /usercontent/<base name>)"
    ),
    base_name: str | None = typer.Option(
        None, "--base-name", help="Prefix of output file names (default: the first input's name and _)"
    ),
    priority: int | None = typer.Option(None, "--priority", help="0 to 100, higher first"),
    external_id: str | None = typer.Option(None, "--external-id", help="Your reference for the job"),
    callback: str | None = typer.Option(None, "--callback", metavar="URL", help="Progress callback URL"),
    params: list[str] = typer.Option(
        [], "--param", metavar="KEY=VALUE", help="A profile parameter (profileParams); repeatable"
    ),
    seek_to: float | None = typer.Option(None, "--seek-to", metavar="SECONDS", help="Start of the output"),
    duration: float | None = typer.Option(None, "--duration", metavar="SECONDS", help="Length of the output"),
    segment_length: float | None = typer.Option(
        None, "--segment-length", metavar="SECONDS", help="Encode in segments of this length"
    ),
    packages: list[PackageFormat] = typer.Option([], "--package", help="Also package the renditions; repeatable"),
    wait: bool = typer.Option(False, "--wait", "-w", help="Follow the job until it ends; exit 1 unless SUCCESSFUL"),
) -> None:
    """Enqueue a transcoding job."""
    state = CliState.of(ctx)
    out = state.out
    check_inputs(inputs)
    extra = parse_params(params)
    with encore_api(state, name) as api:
        uris = upload_inputs(api, inputs, out)
        body = job_body(
            profile=profile,
            inputs=uris,
            input_type=input_type,
            output_folder=output_folder,
            base_name=base_name,
            priority=priority,
            external_id=external_id,
            callback=callback,
            params=extra,
            seek_to=seek_to,
            duration=duration,
            segment_length=segment_length,
            packages=packages,
        )
        job = api.enqueue(body)
        job_id = str(job.get("id"))
        if not wait:
            out.message(f"Job enqueued; follow it with: mediaplane encore watch {name} {job_id}")
            out.result(job, lambda: out.fields(job_summary(job)))
            return
        out.message(f"Job {job_id} enqueued")
        finish(follow(api, job_id, out, name), out)


def watch(ctx: typer.Context, name: str = NAME, job_id: str = JOB_ID) -> None:
    """Follow a job with a progress bar until it ends; exit 1 unless it is SUCCESSFUL."""
    state = CliState.of(ctx)
    with encore_api(state, name) as api:
        finish(follow(api, job_id, state.out, name), state.out)


def list_(
    ctx: typer.Context,
    name: str = NAME,
    status: Status | None = typer.Option(None, "--status", "-s", case_sensitive=False, help="Only jobs in it"),
    page: int = typer.Option(0, "--page", min=0, help="Page number, from 0"),
    size: int = typer.Option(20, "--size", min=1, max=2000, help="Jobs per page"),
) -> None:
    """List jobs, newest first."""
    state = CliState.of(ctx)
    with encore_api(state, name) as api:
        found = api.jobs(status.value if status else None, page=page, size=size)
    jobs = (found.get("_embedded") or {}).get("encoreJobs") or []

    def human() -> None:
        state.out.table(
            ["ID", "Status", "Progress", "Profile", "Base name", "Created"],
            (job_row(j) for j in jobs),
            empty="No jobs.",
            no_wrap=("ID",),
        )
        paging = found.get("page") or {}
        if paging.get("totalPages", 0) > 1:
            number, pages, total = paging.get("number", 0), paging["totalPages"], paging.get("totalElements")
            state.out.message(f"Page {number} of pages 0 to {pages - 1} ({total} jobs); --page N shows another")

    state.out.result(found, human)


def get(ctx: typer.Context, name: str = NAME, job_id: str = JOB_ID) -> None:
    """Show a job: its fields, inputs and outputs."""
    state = CliState.of(ctx)
    with encore_api(state, name) as api:
        job = api.job(job_id)
    state.out.result(job, lambda: show_job(job, state.out))


def cancel(ctx: typer.Context, name: str = NAME, job_id: str = JOB_ID) -> None:
    """Cancel a job that is queued or running."""
    state = CliState.of(ctx)
    with encore_api(state, name) as api:
        api.cancel(job_id)
        job = api.job(job_id)
    status = job.get("status")
    if status == "CANCELLED":
        state.out.message(f"Cancelled job {job_id}")
    else:
        state.out.message(f"Asked job {job_id} to stop (status now {status})")
    if state.json_mode:
        state.out.json(job)


def profiles(ctx: typer.Context, name: str = NAME) -> None:
    """List the profiles of the instance's index, each checked."""
    state = CliState.of(ctx)
    with encore_api(state, name) as api:
        listed = api.profiles()
    state.out.result(
        listed,
        lambda: state.out.table(
            ["Name", "Valid", "Description / error"],
            ([p.get("name"), p.get("valid"), p.get("description") or p.get("error")] for p in listed),
            empty="No profiles.",
            no_wrap=("Name",),
        ),
    )


def files(
    ctx: typer.Context,
    name: str = NAME,
    folder: str = typer.Argument("/usercontent/", metavar="FOLDER", help="A folder of /usercontent/"),
) -> None:
    """List the files under a folder of the instance's storage."""
    state = CliState.of(ctx)
    with encore_api(state, name) as api:
        listed = api.files(folder)
    entries = listed.get("files") or []
    state.out.result(
        listed,
        lambda: state.out.table(
            ["File", "Size", "Modified"],
            ([f.get("name"), human_size(f.get("size")), short_time(f.get("modified"))] for f in entries),
            empty="No files.",
            no_wrap=("File",),
        ),
    )


def write_chunks(chunks: Iterable[bytes], file: BinaryIO, advance: Callable[[int], None]) -> int:
    size = 0
    for chunk in chunks:
        file.write(chunk)
        size += len(chunk)
        advance(len(chunk))
    return size


def save(chunks: Iterable[bytes], target: Path, advance: Callable[[int], None]) -> int:
    """Writes to `<target>.part` and renames it when complete: an interrupted download leaves no partial file."""
    partial = target.with_name(target.name + ".part")
    try:
        with partial.open("wb") as file:
            size = write_chunks(chunks, file, advance)
        partial.replace(target)
    except OSError as exc:
        raise CliError(f"Cannot write {target}: {exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return size


def download(
    ctx: typer.Context,
    name: str = NAME,
    path: str = typer.Argument(..., metavar="PATH", help="A file of the instance, e.g. /usercontent/demo/a.mp4"),
    output: str | None = typer.Option(None, "--output", "-o", metavar="FILE", help="Where to write (- for stdout)"),
) -> None:
    """Download a file from the instance's storage."""
    state = CliState.of(ctx)
    out = state.out
    if path.endswith("/"):
        raise CliError(f"{path} is a folder: list it with `mediaplane encore files {name} {path}`")
    to_stdout = output == "-"
    target = Path(output or PurePosixPath(path).name).expanduser()
    if not to_stdout and target.is_dir():
        target = target / PurePosixPath(path).name
    with encore_api(state, name) as api, api.download(path) as response:
        length = response.headers.get("content-length")
        total = int(length) if length and length.isdigit() else None
        with transfer_bar(out, f"Downloading {PurePosixPath(path).name}", total) as advance:
            if to_stdout:
                write_chunks(response.iter_bytes(CHUNK), sys.stdout.buffer, advance)
                sys.stdout.buffer.flush()
                return
            size = save(response.iter_bytes(CHUNK), target, advance)
    out.message(f"Downloaded {path} to {target} ({human_size(size)})")
    if out.json_mode:
        out.json({"path": path, "file": str(target), "size": size})


def encore_cli() -> typer.Typer:
    """The `mediaplane encore` command group."""
    app = typer.Typer(
        name=SERVICE_ID,
        help="Transcoding jobs on an encore instance: enqueue, watch, list, cancel; profiles; files.",
        no_args_is_help=True,
        add_completion=False,
    )
    app.command()(enqueue)
    app.command()(watch)
    app.command("list")(list_)
    app.command()(get)
    app.command()(cancel)
    app.command()(profiles)
    app.command()(files)
    app.command()(download)
    return app
