"""HLS previews on demand: written only while someone watches.

A live session feeds nginx's preview application (hls on, publishing from loopback only) through one
more relay output, started when a player asks for the playlist and stopped once no one has asked for
PREVIEW_HOLD seconds. An unwatched stream writes nothing to disk and costs no muxing. Files are named
by a keyed hash of the stream key, so neither a URL nor a file name shows the key.
"""

from __future__ import annotations

import hmac
import time
from pathlib import Path
from typing import TYPE_CHECKING

from mediaplane.core.ingest.nginx import IngestLayout, ingest_root, preview_app
from mediaplane.kit.security import derive_key

if TYPE_CHECKING:
    from mediaplane.config import Settings
    from mediaplane.core.runtime import Runtime

PREVIEW_SINK = "preview"
"""The relay output id of the preview (never reported to the service)."""
PREVIEW_HOLD = 45.0
"""Seconds a preview keeps being written after the last request for its playlist."""
RENEW_EVERY = 10.0
"""A process asks the ingest again at most this often per stream (players fetch the playlist every second)."""


def preview_name(settings: Settings, app: str, key: str) -> str:
    digest = hmac.new(derive_key(settings.secret, "ingest-preview"), f"{app}/{key}".encode(), "sha256")
    return digest.hexdigest()[:32]


def preview_url(settings: Settings, app: str, key: str) -> str:
    """Where a live session publishes its preview (the local nginx)."""
    return f"rtmp://127.0.0.1:{settings.rtmp_port}/{preview_app(app)}/{preview_name(settings, app, key)}"


def preview_playlist(settings: Settings, app: str, key: str) -> tuple[Path, str] | None:
    """The preview playlist of the stream on `key` and the prefix of its segments' names, once written."""
    name = preview_name(settings, app, key)
    path = IngestLayout(ingest_root(settings.data_dir)).hls_file(app, f"{name}.m3u8")
    return (path, f"{name}-") if path is not None else None


def preview_segment(settings: Settings, app: str, key: str, number: str) -> Path | None:
    """Segment `number` (digits) of the stream's preview, if it is still there."""
    name = preview_name(settings, app, key)
    return IngestLayout(ingest_root(settings.data_dir)).hls_file(app, f"{name}-{number}.ts")


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
    await ingest_control(runtime).send(app, key, "preview")
