"""The wire shapes of rig's payloads, field names and casing as the spec writes them; every field always
present (rig's omitempty dropped a false isActive)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from mediaplane.config import Settings
from mediaplane.core.runtime import Runtime
from mediaplane.services.rig.live import is_live
from mediaplane.services.rig.models import RigAccount, RigDestination, RigStream

INGEST_APP = "rig"
REGION = "local"


def rfc3339(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def ingest_url(settings: Settings, stream_key: str) -> str:
    return f"{settings.rtmp_base_url}/{INGEST_APP}/{stream_key}"


def account(row: RigAccount) -> dict[str, Any]:
    return {"userID": row.id, "username": row.username, "email": row.email}


def destination(row: RigDestination) -> dict[str, Any]:
    return {
        "id": row.id,
        "service": row.service,
        "streamKey": row.stream_key,
        "rtmpUrl": row.rtmp_url,
        "isActive": row.is_active,
        "status": row.status,
        "lastError": row.last_error,
        "bitrateKbps": round(row.bitrate_kbps, 1),
        "reconnects": row.reconnects,
        "statusChangedAt": rfc3339(row.status_changed_at),
    }


def stream_item(row: RigStream, runtime: Runtime) -> dict[str, Any]:
    """A stream as the list and the create call show it: no destinations, no provisioning."""
    return {
        "id": row.id,
        "streamKey": row.stream_key,
        "destinations": None,
        "provisionStatus": None,
        "isStreaming": is_live(row, runtime),
        "isActive": row.is_active,
    }


def provision_status(row: RigStream, settings: Settings) -> dict[str, Any] | None:
    """rig's StreamProvision, once the stream has been placed on an ingest node."""
    if row.live_node is None:
        return None
    region = {"dns": urlsplit(settings.rtmp_base_url).hostname or "", "name": REGION, "city": "", "country": ""}
    return {
        "region": region,
        "server": {"hostname": row.live_node, "region": region, "lastCheck": rfc3339(row.live_seen_at)},
        "streamUrl": ingest_url(settings, row.stream_key),
    }


def stream_detail(row: RigStream, destinations: Sequence[RigDestination], runtime: Runtime) -> dict[str, Any]:
    settings = runtime.settings
    return {
        **stream_item(row, runtime),
        "destinations": [destination(d) for d in destinations] or None,
        "provisionStatus": provision_status(row, settings),
        "ingestUrl": ingest_url(settings, row.stream_key),
        "liveSince": rfc3339(row.live_since) if is_live(row, runtime) else None,
    }
