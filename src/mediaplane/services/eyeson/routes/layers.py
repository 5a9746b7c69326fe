"""Layers: a picture (uploaded, or at a URL) or a text insert over or under the participants."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mediaplane.kit.railsparams import close_uploads
from mediaplane.services.eyeson.deps import Params, Rooms
from mediaplane.services.eyeson.layers import LayerService

router = APIRouter()


@router.post("/rooms/{access_key}/layers", status_code=201, summary="Show a picture or a text insert in the room")
async def add_layer(access_key: str, rooms: Rooms, params: Params) -> Response:
    try:
        meeting, _user = await rooms.by_access_key(access_key)
        await LayerService(rooms).put(meeting, params)
    finally:
        await close_uploads(params)
    return Response(status_code=201)


@router.delete("/rooms/{access_key}/layers/{index}", summary="Clear the foreground (1) or background (-1) layer")
async def clear_layer(access_key: str, index: str, rooms: Rooms) -> Response:
    meeting, _user = await rooms.by_access_key(access_key)
    await LayerService(rooms).clear(meeting, index)
    return Response(status_code=200)
