"""The Forward API (upstream §1.2): the room's picture, one participant or one playback to a WHIP endpoint."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mediaplane.services.eyeson.deps import ApiKeyInstance, Params, Rooms
from mediaplane.services.eyeson.forward.service import ForwardService

router = APIRouter()


@router.post("/rooms/{room_id}/forward/mcu", status_code=201, summary="Forward the room's picture to a WHIP URL")
async def forward_mcu(room_id: str, instance: ApiKeyInstance, rooms: Rooms, params: Params) -> Response:
    await ForwardService(rooms).start(room_id, "mcu", params)
    return Response(status_code=201)


@router.post("/rooms/{room_id}/forward/source", status_code=201, summary="Forward one participant to a WHIP URL")
async def forward_source(room_id: str, instance: ApiKeyInstance, rooms: Rooms, params: Params) -> Response:
    await ForwardService(rooms).start(room_id, "source", params)
    return Response(status_code=201)


@router.post("/rooms/{room_id}/forward/playback", status_code=201, summary="Forward a playback to a WHIP URL")
async def forward_playback(room_id: str, instance: ApiKeyInstance, rooms: Rooms, params: Params) -> Response:
    await ForwardService(rooms).start(room_id, "playback", params)
    return Response(status_code=201)


@router.delete("/rooms/{room_id}/forward/{forward_id}", summary="Stop a forward")
async def stop_forward(room_id: str, forward_id: str, instance: ApiKeyInstance, rooms: Rooms) -> Response:
    await ForwardService(rooms).stop(room_id, forward_id)
    return Response(status_code=200)
