"""Live streams read in this process: HTTP-FLV for viewers, straight from the live session's relay.

A viewer is one more reader of the fan-out relay that already reads the publisher (kit.rtmp.watch): no
extra connection, no transcoding. It gets the metadata, the sequence headers and the current GOP, so it
starts at a key frame, then each message as the relay reads it; a viewer that falls behind skips to the
next key frame, and one that leaves costs nothing more. The stream ends with the publisher.

Only the process that runs the ingest has the sessions (`mediaplane serve` with the ingest on); elsewhere,
and with FFmpeg relays (RELAY_ENGINE=ffmpeg), there is nothing to read and :func:`check_watchable` says so.
With RTMP_SERVER=nginx a viewer starts the relay, which plays the stream from nginx.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Literal

from mediaplane.core.ingest.manager import current_manager
from mediaplane.kit.rtmp.flv import FlvWriter
from mediaplane.kit.rtmp.watch import DEFAULT_WATCH_BYTES, Watcher

if TYPE_CHECKING:
    from mediaplane.core.ingest.session import LiveSession
    from mediaplane.core.runtime import Runtime

Reason = Literal["not_live", "elsewhere", "unsupported", "full"]


class Unwatchable(Exception):
    """Why a live stream cannot be read here: not_live, elsewhere (no ingest in this process),
    unsupported (FFmpeg relays), full (as many viewers as allowed)."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason
        self.message = message


def _session(runtime: Runtime, app: str, key: str) -> LiveSession | None:
    manager = current_manager(runtime)
    return manager.sessions.get((app, key)) if manager is not None else None


def check_watchable(runtime: Runtime, app: str, key: str, max_viewers: int) -> None:
    """Raises Unwatchable unless a viewer of the stream on `key` can be served by this process now."""
    if current_manager(runtime) is None:
        raise Unwatchable("elsewhere", "this process does not run the RTMP ingest, which serves live streams")
    session = _session(runtime, app, key)
    if session is None:
        raise Unwatchable("not_live", "not live on this ingest")
    if not session.watchable:
        raise Unwatchable("unsupported", "live streams cannot be read here with FFmpeg relays (RELAY_ENGINE)")
    if session.watchers >= max_viewers:
        raise Unwatchable("full", f"this stream has {max_viewers} viewers already; try again later")


async def flv_stream(
    runtime: Runtime, app: str, key: str, *, max_viewers: int, max_bytes: int = DEFAULT_WATCH_BYTES
) -> AsyncIterator[bytes]:
    """The live stream on `key` as FLV bytes, until it ends or the caller stops reading; nothing when it
    cannot be read (ask :func:`check_watchable` first to say why). `max_bytes` bounds the media waiting."""
    session = _session(runtime, app, key)
    watcher = Watcher(max_bytes)
    if session is None or not session.watch(watcher, max_viewers):
        return
    writer = FlvWriter()
    try:
        while batch := await watcher.next_batch():
            data = writer.write(batch)
            if data:
                yield data
    finally:
        session.unwatch(watcher)
