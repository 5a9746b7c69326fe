"""Live points: a node agent publishes a point's video to the platform's RTMP ingest under the app `gosd`.

The stream key is the point id; the node's own secret rides along as `?secret=` and admits the publish,
so rotating the secret ends it and nothing else needs storing. Play URLs come from the point id alone.
"""

from __future__ import annotations

from urllib.parse import quote

from mediaplane.config import Settings

INGEST_APP = "gosd"


def publish_url(settings: Settings, point_id: int, secret: str) -> str:
    """rtmp://HOST:PORT/gosd/<point id>?secret=<node secret>: where the node agent pushes the video."""
    return f"{settings.rtmp_base_url}/{INGEST_APP}/{point_id}?secret={quote(secret, safe='')}"


def point_of_key(key: str) -> int | None:
    """The point id a stream key names, or None."""
    return int(key) if key.isdigit() and len(key) <= 18 else None
