"""The instance's storage area (`/usercontent/...`) in the dashboard, as `mediaplane encore files` and `download`
reach it: a folder's subfolders and files, a file to play or download, and uploading an input."""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import PurePosixPath
from urllib.parse import quote, urlencode

from fastapi import APIRouter
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from mediaplane.console import ConsoleContext, CurrentConsole
from mediaplane.kit.errors import MediaplaneError
from mediaplane.kit.storage import ObjectInfo, Storage
from mediaplane.kit.storage.http import range_response
from mediaplane.services.encore.console.views import human_size
from mediaplane.services.encore.locations import area_key, instance_area

router = APIRouter()
ROOT = "usercontent"
UPLOAD_FOLDER = "/usercontent/uploads/"  # where `mediaplane encore enqueue -i FILE` puts a local file
MAX_FILES = 500  # rows of one folder's page; a package folder holds a file per segment
CHUNK = 1 << 20
mimetypes.add_type("application/vnd.apple.mpegurl", ".m3u8")
mimetypes.add_type("application/dash+xml", ".mpd")
mimetypes.add_type("video/iso.segment", ".m4s")
mimetypes.add_type("application/mxf", ".mxf")
mimetypes.add_type("video/mp2t", ".ts")
INLINE = frozenset(
    {"application/vnd.apple.mpegurl", "application/dash+xml", "text/vtt", "text/plain", "application/json"}
)


@dataclass(frozen=True)
class Entry:
    name: str
    path: str  # under /usercontent/, for links: `web/a.mp4`, or `web/` for a folder
    size: str
    modified: str
    files: int = 1
    input_type: str | None = None  # what the enqueue form's input type is for it; None: not a media file


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _input_type(name: str) -> str | None:
    kind = mimetypes.guess_type(name)[0] or ""
    if kind.startswith("audio/"):
        return "Audio"
    if kind == "application/mxf" or (kind.startswith("video/") and kind != "video/iso.segment"):
        return "AudioVideo"
    return None


def entries(folder: str, listed: list[ObjectInfo]) -> tuple[list[Entry], list[Entry]]:
    """The folder's subfolders (with their file count, total size and latest change) and its own files."""
    folders: dict[str, list[ObjectInfo]] = {}
    files = []
    for info in listed:
        rest = info.key.removeprefix(f"{folder}/")
        head, sep, _ = rest.partition("/")
        if sep:
            folders.setdefault(head, []).append(info)
        else:
            files.append(
                Entry(rest, _sub(folder, rest), human_size(info.size), _when(info.modified), 1, _input_type(rest))
            )
    subfolders = [
        Entry(
            f"{name}/",
            _sub(folder, name) + "/",
            human_size(sum(i.size for i in inside)),
            _when(max(i.modified for i in inside)),
            len(inside),
        )
        for name, inside in sorted(folders.items())
    ]
    return subfolders, files


def _sub(folder: str, name: str) -> str:
    """`usercontent/web`, `a.mp4` → `web/a.mp4`: the path under /usercontent/ that the dashboard's links use."""
    return f"{folder}/{name}".removeprefix(f"{ROOT}/")


def _crumbs(folder: str) -> list[tuple[str, str]]:
    """`usercontent/a/b` → [("usercontent", ""), ("a", "a/"), ("b", "a/b/")]: names and their paths."""
    parts = folder.split("/")
    return [(part, "/".join(parts[1 : n + 1]) + "/" if n else "") for n, part in enumerate(parts)]


async def _folder_page(
    ctx: ConsoleContext,
    folder: str,
    *,
    uploaded: str | None = None,
    errors: dict[str, str] | None = None,
    target: str = "",
) -> Response:
    area = instance_area(ctx.runtime.storage, ctx.instance.id)
    subfolders, files = entries(folder, await area.list(folder))
    shown = f"/{folder}/"
    new = next((e for e in files if e.name == uploaded), None)
    return ctx.render(
        "encore/files.html",
        status_code=400 if errors else 200,
        title=f"Files {shown}: {ctx.instance.name}",
        folder=shown,
        crumbs=_crumbs(folder),
        folders=subfolders,
        files=files[:MAX_FILES],
        hidden_files=max(0, len(files) - MAX_FILES),
        enqueue_link=lambda e: (
            f"{ctx.url}/new?" + urlencode({"input_uri": f"/{ROOT}/{e.path}", "input_type": e.input_type})
        ),
        file_link=lambda e: f"{ctx.url}/files/{quote(e.path)}",
        upload_folder=target or (UPLOAD_FOLDER if folder == ROOT else shown),
        errors=errors or {},
        max_upload=human_size(ctx.runtime.settings.max_upload_bytes),
        notice=f"Uploaded {shown}{new.name} ({new.size})." if new else None,
    )


def _attachment(name: str) -> str:
    fallback = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\' else "_" for ch in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def _served_type(key: str) -> tuple[str, bool]:
    """The type to serve a stored file as, and whether a browser may show it in the page. Only media, images,
    manifests and text: an uploaded page or script must never run on the console's origin."""
    kind = mimetypes.guess_type(key)[0] or ""
    inline = (kind.startswith(("video/", "audio/", "image/")) and kind != "image/svg+xml") or kind in INLINE
    return (kind, True) if inline else ("application/octet-stream", False)


@router.get("/files/{path:path}")
async def file(path: str, ctx: CurrentConsole) -> Response:
    """A folder's page (`…/files/` and paths ending in `/`, as the API lists them), or a file of the instance's
    storage for the player and downloads (Range supported; `?download=1`: saved as a file), with the session's
    rights."""
    if path == "" or path.endswith("/"):
        folder = area_key(f"{ROOT}/{path}")
        return await _folder_page(ctx, folder, uploaded=ctx.request.query_params.get("uploaded"))
    key = area_key(f"{ROOT}/{path}")
    area = instance_area(ctx.runtime.storage, ctx.instance.id)
    kind, inline = _served_type(key)
    download = not inline or bool(ctx.request.query_params.get("download"))
    headers = {"Content-Disposition": _attachment(PurePosixPath(key).name)} if download else None
    return await range_response(area, key, ctx.request.headers.get("range"), kind, headers=headers)


async def _chunks(upload: UploadFile) -> AsyncIterator[bytes]:
    while chunk := await upload.read(CHUNK):
        yield chunk


class Refused(ValueError):
    """An upload that was not stored: what to tell the user, next to the form's `field`."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


async def _store(area: Storage, target: str, upload: object, max_bytes: int) -> str:
    """Stores the upload under the folder `target`; returns its key. An existing file is never replaced."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise Refused("file", "Choose a file to upload.")
    name = PurePosixPath(upload.filename.replace("\\", "/")).name
    if name in ("", ".", ".."):
        raise Refused("file", f"The file name {upload.filename!r} cannot be used: rename the file.")
    if not f"{target.rstrip('/')}/".startswith(f"/{ROOT}/"):
        raise Refused("folder", f"A folder under /{ROOT}/, e.g. {UPLOAD_FOLDER}")
    try:
        key = area_key(f"{target.rstrip('/')}/{name}")
    except MediaplaneError as exc:
        raise Refused("folder", f"This folder or file name cannot be used: {exc}.") from None
    if await area.exists(key):
        raise Refused("file", f"There is already a file /{key}: rename yours, or upload it to another folder.")
    try:
        await area.put_stream(key, _chunks(upload), max_bytes=max_bytes)
    except MediaplaneError as exc:
        raise Refused("file", f"The file was not stored: {exc}.") from None
    return key


@router.post("/files")
async def upload(ctx: CurrentConsole) -> Response:
    """Stores a file of the user's computer in the instance's storage, as the CLI's `enqueue -i FILE` does."""
    form = await ctx.request.form()
    target = form.get("folder")
    target = target.strip() if isinstance(target, str) and target.strip() else UPLOAD_FOLDER
    area = instance_area(ctx.runtime.storage, ctx.instance.id)
    try:
        key = await _store(area, target, form.get("file"), ctx.runtime.settings.max_upload_bytes)
    except Refused as exc:
        return await _folder_page(ctx, _shown_folder(target), errors={exc.field: str(exc)}, target=target)
    folder, name = key.rsplit("/", 1)
    return RedirectResponse(f"{ctx.url}/files/{quote(_sub(folder, ''))}?" + urlencode({"uploaded": name}), 303)


def _shown_folder(target: str) -> str:
    """The folder page to answer a refused upload on: the folder asked for when it is a good one, else the root."""
    try:
        folder = area_key(target)
    except MediaplaneError:
        return ROOT
    return folder if folder == ROOT or folder.startswith(f"{ROOT}/") else ROOT
