"""gosd's side of the platform's RTMP ingest: rtmp://HOST:PORT/gosd/<point id>?secret=<node secret>.

A publish is let in for a livestream_flv or livestream_hls point whose node's secret it carries; one
publisher per point. Nothing is relayed anywhere: viewers read the stream from the ingest (HTTP-FLV, HLS).

The session's `ref` is `<point id>:<claim time in µs>:<start of the secret's hash>`: the heartbeat and the
end act only on the claim they made, and the heartbeat drops a publisher whose node secret changed.
Every method opens its own transaction and may run twice without harm.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.ingest import (
    Admission,
    IngestHandler,
    Output,
    OutputState,
    Publish,
    Refused,
    SessionEnd,
    node_name,
)
from mediaplane.core.runtime import Runtime
from mediaplane.kit.security import sha256_hex
from mediaplane.services.gosd.live import INGEST_APP, INGESTED, heartbeat_timeout, point_of_key
from mediaplane.services.gosd.models import GosdNode, GosdPoint
from mediaplane.services.gosd.repository import PointRepository

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_FINGERPRINT = 16  # hex characters of the secret's hash kept in the ref (never the secret)


def _micros(value: datetime) -> int:
    return (value - _EPOCH) // timedelta(microseconds=1)


def _ref(point: GosdPoint, since: datetime, secret_hash: str) -> str:
    return f"{point.id}:{_micros(since)}:{secret_hash[:_FINGERPRINT]}"


def _parse_ref(ref: str) -> tuple[int, int, str] | None:
    parts = ref.split(":")
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    return int(parts[0]), int(parts[1]), parts[2]


def _secret_matches(node: GosdNode, secret: str | None) -> bool:
    if not secret or node.secret_hash is None:
        return False
    return hmac.compare_digest(sha256_hex(secret).encode(), node.secret_hash.encode())


class GosdIngest(IngestHandler):
    app = INGEST_APP
    hls = True

    async def admit(self, runtime: Runtime, publish: Publish) -> Admission:
        point_id = point_of_key(publish.key)
        node, now = node_name(runtime), runtime.clock.now()
        async with runtime.db.session() as session:
            points = PointRepository(session)
            found = await points.with_node(point_id) if point_id is not None else None
            if found is None:
                raise Refused("unknown", "No point has this id")
            point, owner = found
            # The secret first: without it, nothing more is told about the point.
            if not _secret_matches(owner, publish.args.get("secret")):
                raise Refused("invalid", "Wrong or missing ?secret= (the node's secret)")
            if point.point_type_id not in INGESTED:
                raise Refused("invalid", "Only livestream_flv and livestream_hls points take video")
            if not await points.claim_live(point.id, node, now, now - heartbeat_timeout(runtime.settings)):
                raise Refused("in_use", "This point is already live")
            assert owner.secret_hash is not None
            return Admission(ref=_ref(point, now, owner.secret_hash))

    async def outputs(self, runtime: Runtime, key: str, ref: str) -> tuple[Output, ...]:
        return ()

    async def still_allowed(self, runtime: Runtime, key: str, ref: str) -> bool:
        """Still this claim, the point still takes video, and the node's secret is the one it came with;
        then the point's heartbeat is touched."""
        async with runtime.db.session() as session:
            point = await self._held(runtime, session, key, ref, check_secret=True)
            if point is None:
                return False
            point.updated_at = runtime.clock.now()
            return True

    async def ended(self, runtime: Runtime, key: str, ref: str, end: SessionEnd) -> None:
        async with runtime.db.session() as session:
            point = await self._held(runtime, session, key, ref, check_secret=False)
            if point is not None:  # else another claim holds it now (or the point is gone)
                point.live_since = point.live_node = None

    async def output_changed(
        self, runtime: Runtime, ref: str, state: OutputState, previous: OutputState | None
    ) -> None:
        return None  # no outputs

    async def reset(self, runtime: Runtime, node: str) -> None:
        async with runtime.db.session() as session:
            for point in await PointRepository(session).live_on(node):
                point.live_since = point.live_node = None

    @staticmethod
    async def _held(
        runtime: Runtime, session: AsyncSession, key: str, ref: str, *, check_secret: bool
    ) -> GosdPoint | None:
        """The point, when the session on `key` with `ref` is still its live claim on this ingest."""
        parsed = _parse_ref(ref)
        if parsed is None or str(parsed[0]) != key:
            return None
        point_id, since, fingerprint = parsed
        found = await PointRepository(session).with_node(point_id)
        if found is None:
            return None
        point, owner = found
        if point.live_since is None or _micros(point.live_since) != since or point.live_node != node_name(runtime):
            return None
        if check_secret:
            current = (owner.secret_hash or "")[:_FINGERPRINT]
            if point.point_type_id not in INGESTED or not hmac.compare_digest(current.encode(), fingerprint.encode()):
                return None
        return point
