"""When a stream counts as live, and what going offline resets."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from mediaplane.core.runtime import Runtime
from mediaplane.services.rig.models import RigDestination, RigStream

# A live stream's ingest confirms it every few seconds; past this, a crashed ingest no longer holds it.
HEARTBEAT_TIMEOUT = timedelta(seconds=60)


def heartbeat_timeout(runtime: Runtime) -> timedelta:
    """60 s, or three heartbeats where the ingest is set to beat more slowly than every 20 s."""
    return max(HEARTBEAT_TIMEOUT, 3 * timedelta(seconds=runtime.settings.rtmp_heartbeat_seconds))


def is_live(stream: RigStream, runtime: Runtime) -> bool:
    seen = stream.live_seen_at
    return stream.is_streaming and seen is not None and runtime.clock.now() - seen <= heartbeat_timeout(runtime)


def reset_outputs(destinations: Iterable[RigDestination], now: datetime) -> None:
    for destination in destinations:
        if destination.status != "idle":
            destination.status_changed_at = now
        destination.status = "idle"
        destination.last_error = None
        destination.bitrate_kbps = 0.0
        destination.reconnects = 0
        destination.error_since = None


def mark_offline(stream: RigStream, destinations: Iterable[RigDestination], now: datetime) -> None:
    """Not live any more; live_node and live_seen_at stay as the last placement (provisionStatus)."""
    stream.is_streaming = False
    stream.live_since = None
    stream.live_client = None
    reset_outputs(destinations, now)
