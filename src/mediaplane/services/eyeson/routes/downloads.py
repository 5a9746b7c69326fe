"""The signed, expiring download links of stored files (recordings, snapshots): the check of the link, then the
file with Range support."""

from __future__ import annotations

from fastapi import Request, Response

from mediaplane.kit.storage import ObjectNotFound, range_response
from mediaplane.services.eyeson.errors import not_found
from mediaplane.services.eyeson.recording.links import check_download
from mediaplane.services.eyeson.rooms import RoomService


def check_link(request: Request, rooms: RoomService, kind: str, object_id: str) -> None:
    """403 unless the query carries a valid, unexpired signature for this object."""
    query = request.query_params
    check_download(rooms.runtime, rooms.instance.id, kind, object_id, query.get("expires"), query.get("signature"))


async def stored_file(request: Request, rooms: RoomService, key: str | None, media_type: str, gone: str) -> Response:
    """The stored object (a Range of it when asked); 404 `gone` when there is none."""
    if not key:
        raise not_found(gone)
    try:
        return await range_response(rooms.runtime.storage, key, request.headers.get("range"), media_type)
    except ObjectNotFound:
        raise not_found(gone) from None
