"""HLS previews on demand: written only while someone watches.

A live session feeds nginx's preview application (hls on, publishing from loopback only) through one
more relay output, started when a player asks for the playlist and stopped once no one has asked for
PREVIEW_HOLD seconds. An unwatched stream writes nothing to disk and costs no muxing. Files are named
by a keyed hash of the stream key, so neither a URL nor a file name shows the key. Where the process
asking is not the ingest's (scale-out), the ingest also copies the preview into the platform storage.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from typing import TYPE_CHECKING

from mediaplane.core.ingest.nginx import IngestLayout, ingest_root, preview_app
from mediaplane.kit.security import derive_key
from mediaplane.kit.storage import ObjectNotFound, Storage, StorageError

if TYPE_CHECKING:
    from mediaplane.config import Settings
    from mediaplane.core.runtime import Runtime

log = logging.getLogger(__name__)
MIRROR_EVERY = 0.5
"""Seconds between copies of a preview into the storage for other processes."""

PREVIEW_SINK = "preview"
"""The relay output id of the preview (never reported to the service)."""
PREVIEW_HOLD = 45.0
"""Seconds a preview keeps being written after the last request for its playlist."""
RENEW_EVERY = 10.0
"""A process asks the ingest again at most this often per stream (players fetch the playlist every second)."""


def preview_name(settings: Settings, app: str, key: str) -> str:
    digest = hmac.new(derive_key(settings.secret, "ingest-preview"), f"{app}/{key}".encode(), "sha256")
    return digest.hexdigest()[:32]


def preview_url(port: int, settings: Settings, app: str, key: str) -> str:
    """Where a live session publishes its preview: the local nginx, listening on ``port``."""
    return f"rtmp://127.0.0.1:{port}/{preview_app(app)}/{preview_name(settings, app, key)}"


async def preview_playlist(runtime: Runtime, app: str, key: str) -> tuple[str, str] | None:
    """The preview playlist of the stream on `key` and the prefix of its segments' names, once written:
    from this node's ingest, else from the copy a remote ingest keeps in the storage (scale-out)."""
    name = preview_name(runtime.settings, app, key)
    data = await _read(runtime, app, name, f"{name}.m3u8")
    return (data.decode(), f"{name}-") if data is not None else None


def renamed_segments(text: str, prefix: str) -> str:
    """The playlist with its segments named `seg-N.ts` (the file names carry the stream's hashed key)."""
    lines = []
    for line in text.splitlines():
        if line.startswith(prefix) and line.endswith(".ts"):
            line = "seg-" + line[len(prefix) :]
        lines.append(line)
    return "\n".join(lines) + "\n"


async def preview_segment(runtime: Runtime, app: str, key: str, number: str) -> bytes | None:
    """Segment `number` (digits) of the stream's preview, if it is still there."""
    name = preview_name(runtime.settings, app, key)
    return await _read(runtime, app, name, f"{name}-{number}.ts")


async def _read(runtime: Runtime, app: str, name: str, file: str) -> bytes | None:
    path = IngestLayout(ingest_root(runtime.settings.data_dir)).hls_file(app, file)
    if path is not None:
        try:
            return path.read_bytes()
        except OSError:
            return None  # rotated out meanwhile
    key = mirror_prefix(app, name) + file
    try:  # one request: players ask every second
        return b"".join([chunk async for chunk in runtime.storage.open(key)])
    except ObjectNotFound:
        return None
    except StorageError as exc:
        log.warning("preview %s unreadable from the storage: %s", key, exc)
        return None


def mirror_prefix(app: str, name: str) -> str:
    return f"ingest/previews/{app}/{name}/"


class PreviewMirror:
    """Copies a preview's playlist and segments into the platform storage while it is written, for API
    processes on other machines (they ask for it over the event bus; the ingest's node serves its own)."""

    def __init__(self, storage: Storage, layout: IngestLayout, app: str, name: str) -> None:
        self.storage, self.layout, self.app, self.name = storage, layout, app, name
        self.prefix = mirror_prefix(app, name)
        self._sent: set[str] = set()
        self._playlist = ""

    async def run(self) -> None:
        try:
            while True:
                try:
                    await self.sync()
                except (OSError, StorageError) as exc:
                    log.warning("preview copy of %s/%s: %s", self.app, self.name, exc)
                await asyncio.sleep(MIRROR_EVERY)
        finally:
            with contextlib.suppress(OSError, StorageError):
                await asyncio.shield(self.storage.delete_prefix(self.prefix))

    async def sync(self) -> None:
        path = self.layout.hls_file(self.app, f"{self.name}.m3u8")
        if path is None:
            return
        playlist = path.read_text()
        if playlist == self._playlist:
            return
        listed = [line for line in playlist.splitlines() if line.endswith(".ts") and "/" not in line]
        for segment in listed:
            file = self.layout.hls_file(self.app, segment)
            if segment not in self._sent and file is not None:
                await self.storage.put_file(self.prefix + segment, file)
                self._sent.add(segment)
        await self.storage.put_bytes(self.prefix + path.name, playlist.encode())
        self._playlist = playlist
        for old in self._sent - set(listed):
            await self.storage.delete(self.prefix + old)
            self._sent.discard(old)


async def want_preview(runtime: Runtime, app: str, key: str) -> None:
    """Someone watches the preview of the stream on `key`: the ingest writes it (again) for a while."""
    from mediaplane.core.ingest import ingest_control

    asked = runtime.extras.get("ingest.preview.asked")
    if not isinstance(asked, dict):
        asked = runtime.extras["ingest.preview.asked"] = {}
    now = time.monotonic()
    if now - asked.get((app, key), -RENEW_EVERY) < RENEW_EVERY:
        return
    asked[(app, key)] = now
    if len(asked) > 10_000:  # forget old streams
        for old in [k for k, at in asked.items() if now - at >= RENEW_EVERY]:
            del asked[old]
    from mediaplane.core.ingest.manager import current_manager

    # A process without the ingest reads the preview from the storage: the ingest copies it there.
    await ingest_control(runtime).send(app, key, "preview", mirror=current_manager(runtime) is None)
