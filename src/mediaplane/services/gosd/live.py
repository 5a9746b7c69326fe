"""Live points: a node agent publishes a point's video to the platform's RTMP ingest under the app `gosd`.

The stream key is `<point id>-<node secret>`: the node's own credential admits it, so rotating the secret
ends the publish, and nothing else needs storing.
"""

from __future__ import annotations

from mediaplane.config import Settings

INGEST_APP = "gosd"


def publish_key(point_id: int, secret: str) -> str:
    return f"{point_id}-{secret}"


def parse_key(key: str) -> tuple[int, str] | None:
    """(point id, node secret) of a stream key, or None when it is not one."""
    point, sep, secret = key.partition("-")
    if not sep or not point.isdigit() or not secret or len(point) > 18:
        return None
    return int(point), secret


def publish_url(settings: Settings, point_id: int, secret: str) -> str:
    """rtmp://HOST:PORT/gosd/<key>: where the node agent pushes the point's video."""
    return f"{settings.rtmp_base_url}/{INGEST_APP}/{publish_key(point_id, secret)}"
