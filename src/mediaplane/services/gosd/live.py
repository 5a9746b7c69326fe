"""Live points: a node agent publishes a point's video to the platform's RTMP ingest under the app `gosd`.

The stream key is the point id; the node's own secret rides along as `?secret=` and admits the publish,
so rotating the secret ends it and nothing else needs storing. Viewers play it over HTTP-FLV or HLS at
URLs named by a keyed hash of the point id: unguessable, with no bearer header (SDWC's players send none).

A live point's heartbeat is its `updated_at`: the ingest touches it every RTMP_HEARTBEAT_SECONDS while
the publisher is there, so a point whose ingest died counts as not live (and may be claimed) once it
is older than heartbeat_timeout.
"""

from __future__ import annotations

import asyncio
import hmac
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.config import Settings
from mediaplane.core.ingest import ingest_control, preview_playlist, preview_segment, renamed_segments, want_preview
from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.security import derive_key
from mediaplane.services.gosd.errors import GosdError, not_found
from mediaplane.services.gosd.models import GosdPoint
from mediaplane.services.gosd.points import BY_NAME
from mediaplane.services.gosd.repository import PointRepository

INGEST_APP = "gosd"
# The point types whose video the ingest takes, and the play URL each one's player wants.
INGESTED = {BY_NAME["livestream_flv"]: "flv", BY_NAME["livestream_hls"]: "hls"}
HEARTBEAT_TIMEOUT = timedelta(seconds=60)
MAX_VIEWERS = 16  # HTTP-FLV viewers per point (HLS viewers share files and cost no more)
VIEWER_BYTES = 4 * 1024 * 1024  # media one HTTP-FLV viewer may have waiting before it skips ahead
_NAME_HASH = 32  # hex characters of the play name's keyed hash (128 bits)
PLAYLIST_WAIT = 8.0  # seconds a playlist request waits for the HLS preview to start (hls.js waits 10)
SEGMENT = re.compile(r"seg-(\d{1,12})\.ts")


def publish_url(settings: Settings, point_id: int, secret: str) -> str:
    """rtmp://HOST:PORT/gosd/<point id>?secret=<node secret>: where the node agent pushes the video."""
    return f"{settings.rtmp_base_url}/{INGEST_APP}/{point_id}?secret={quote(secret, safe='')}"


def point_of_key(key: str) -> int | None:
    """The point id a stream key names, or None."""
    return int(key) if key.isdigit() and len(key) <= 18 else None


def heartbeat_timeout(settings: Settings) -> timedelta:
    """60 s, or three heartbeats where the ingest is set to beat more slowly than every 20 s."""
    return max(HEARTBEAT_TIMEOUT, 3 * timedelta(seconds=settings.rtmp_heartbeat_seconds))


def is_live(point: GosdPoint, settings: Settings, now: datetime) -> bool:
    return point.live_since is not None and now - point.updated_at <= heartbeat_timeout(settings)


# -- play URLs --------------------------------------------------------------------------------------


def _hash(settings: Settings, point_id: int) -> str:
    digest = hmac.new(derive_key(settings.secret, "gosd-live-play"), str(point_id).encode(), "sha256")
    return digest.hexdigest()[:_NAME_HASH]


def play_name(settings: Settings, point_id: int) -> str:
    """`<point id>-<keyed hash>`: the name of a point's play URLs."""
    return f"{point_id}-{_hash(settings, point_id)}"


def point_of_name(settings: Settings, name: str) -> int | None:
    """The point id a play name was made for, or None when it was not made here."""
    given_id, _, given_hash = name.partition("-")
    point_id = point_of_key(given_id)
    if point_id is None or not hmac.compare_digest(given_hash.encode(), _hash(settings, point_id).encode()):
        return None
    return point_id


@dataclass(frozen=True)
class PlayUrls:
    """Where viewers play the live points of one instance: `base` is the instance URL + `gosd/live/`."""

    base: str
    settings: Settings
    now: datetime

    def flv(self, point_id: int) -> str:
        return f"{self.base}{play_name(self.settings, point_id)}.flv"

    def hls(self, point_id: int) -> str:
        return f"{self.base}{play_name(self.settings, point_id)}/index.m3u8"

    def url(self, point: GosdPoint) -> str | None:
        """The play URL of an ingested point's type; None for the other types."""
        kind = INGESTED.get(point.point_type_id)
        if kind is None:
            return None
        return self.flv(point.id) if kind == "flv" else self.hls(point.id)

    def params(self, point: GosdPoint) -> dict[str, Any]:
        """The point's params, with `url` filled in for an ingested point unless the user set one."""
        params = dict(point.params or {})
        url = self.url(point)
        if url is not None and not (isinstance(params.get("url"), str) and params["url"]):
            params["url"] = url
        return params

    def live(self, point: GosdPoint) -> bool:
        return point.point_type_id in INGESTED and is_live(point, self.settings, self.now)


def play_urls(runtime: Runtime, instance_url: str) -> PlayUrls:
    return PlayUrls(f"{instance_url}gosd/live/", runtime.settings, runtime.clock.now())


async def drop_publishers(session: AsyncSession, runtime: Runtime, points: list[GosdPoint]) -> None:
    """The live publishers of these points go once `session` commits (their node's secret changed, or they
    were removed); the ingest's heartbeat would find out within RTMP_HEARTBEAT_SECONDS anyway."""
    control = ingest_control(runtime)
    for point in points:
        if point.live_since is not None:
            await control.drop(session, INGEST_APP, str(point.id))


# -- what viewers get -------------------------------------------------------------------------------


async def live_point(runtime: Runtime, instance: Instance, name: str) -> GosdPoint:
    """The point a play name is for, when it is live; 404 otherwise. A short transaction of its own: the
    answer may stream for hours."""
    point_id = point_of_name(runtime.settings, name)
    point = None
    if point_id is not None:
        async with runtime.db.session() as session:
            point = await PointRepository(session).get_in(instance.id, point_id)
    if point is None or point.point_type_id not in INGESTED:
        raise not_found("No such live point (its play URL is in the node list)")
    if not is_live(point, runtime.settings, runtime.clock.now()):
        raise not_found("This point is not live")
    return point


async def playlist(runtime: Runtime, point: GosdPoint) -> str:
    """The HLS playlist of a live point, its segments named `seg-N.ts`. The ingest writes it while someone
    asks; the first request waits up to PLAYLIST_WAIT seconds for it, so a player's first load works."""
    key = str(point.id)
    await want_preview(runtime, INGEST_APP, key)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + PLAYLIST_WAIT
    while (found := await preview_playlist(runtime, INGEST_APP, key)) is None:
        if loop.time() >= deadline:
            raise GosdError(503, "The video is starting; try again in a moment", headers={"Retry-After": "1"})
        await asyncio.sleep(0.25)
    return renamed_segments(*found)


async def segment(runtime: Runtime, point: GosdPoint, name: str) -> bytes:
    match = SEGMENT.fullmatch(name)
    data = await preview_segment(runtime, INGEST_APP, str(point.id), match[1]) if match else None
    if data is None:
        raise not_found("No such segment (it may have rotated out)")
    return data
