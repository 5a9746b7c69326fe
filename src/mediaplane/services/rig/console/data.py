"""What the dashboard reads: every account and stream of one instance, and the live state the page shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.runtime import Runtime
from mediaplane.kit.errors import NotFound
from mediaplane.services.rig.live import is_live
from mediaplane.services.rig.models import RigAccount, RigDestination, RigStream
from mediaplane.services.rig.schemas import rfc3339


@dataclass
class StreamRow:
    stream: RigStream
    account: RigAccount
    destinations: list[RigDestination]
    live: bool

    @property
    def state(self) -> str:
        if self.live:
            return "live"
        return "offline" if self.stream.is_active else "inactive"


def path_id(value: str, missing: str) -> str:
    """An id from a path, or 404: a value no database would take (PostgreSQL refuses a NUL) is no id."""
    if not (0 < len(value) <= 36 and value.isascii() and value.isprintable()):
        raise NotFound(missing)
    return value


def stream_id_of(value: str) -> str:
    return path_id(value, "There is no such stream in this instance.")


async def accounts_of(session: AsyncSession, instance_id: str) -> Sequence[RigAccount]:
    found = await session.scalars(
        select(RigAccount).where(RigAccount.instance_id == instance_id).order_by(RigAccount.username)
    )
    return found.all()


async def stream_rows(
    session: AsyncSession, runtime: Runtime, instance_id: str, stream_id: str | None = None
) -> list[StreamRow]:
    """The instance's streams (or the one with `stream_id`), oldest first, with their owners and destinations."""
    query = select(RigStream, RigAccount).join(RigAccount, RigAccount.id == RigStream.account_id)
    query = query.where(RigStream.instance_id == instance_id)
    if stream_id is not None:
        query = query.where(RigStream.id == stream_id)
    pairs = (await session.execute(query.order_by(RigStream.created_at, RigStream.id))).all()
    rows = {stream.id: StreamRow(stream, account, [], is_live(stream, runtime)) for stream, account in pairs}
    if rows:
        destinations = await session.scalars(
            select(RigDestination).where(RigDestination.stream_id.in_(rows)).order_by(RigDestination.id)
        )
        for destination in destinations:
            rows[destination.stream_id].destinations.append(destination)
    return list(rows.values())


def destination_state(row: RigDestination) -> dict[str, Any]:
    return {
        "id": row.id,
        "active": row.is_active,
        "status": row.status if row.is_active else "off",
        "bitrateKbps": round(row.bitrate_kbps, 1),
        "reconnects": row.reconnects,
        "lastError": row.last_error,
    }


def live_state(rows: Sequence[StreamRow]) -> dict[str, Any]:
    """What the page updates: each stream's state and each destination's relay state (no keys), with what the
    list needs to add a row for a stream made elsewhere."""
    return {
        "streams": [
            {
                "id": row.stream.id,
                "account": row.account.username,
                "created": rfc3339(row.stream.created_at),
                "active": row.stream.is_active,
                "state": row.state,
                "liveSince": rfc3339(row.stream.live_since) if row.live else None,
                "destinations": [destination_state(d) for d in row.destinations],
            }
            for row in rows
        ]
    }
