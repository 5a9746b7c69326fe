"""Broadcasts: the room's composed picture and audio pushed live to RTMP/RTMPS servers (YouTube, Twitch, any
RTMP ingest), one per platform, with their state in the room response and `broadcasts_update` events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from mediaplane.services.eyeson.broadcast.service import BroadcastService
from mediaplane.services.eyeson.deps import Params, Rooms
from mediaplane.services.eyeson.routes.rooms import start_media

router = APIRouter()


@router.post("/rooms/{access_key}/broadcasts", status_code=201, summary="Start broadcasting the room over RTMP")
async def start_broadcast(access_key: str, rooms: Rooms, params: Params) -> dict[str, Any]:
    meeting, user = await rooms.by_access_key(access_key)
    service = BroadcastService(rooms)
    service.check_available(meeting)
    await start_media(rooms, meeting)  # the room's media runs (it does from POST /rooms on)
    return await service.start(meeting, user, params)


@router.put("/rooms/{access_key}/broadcasts/{platform}", summary="Set the running broadcast's player URL")
async def update_broadcast(access_key: str, platform: str, rooms: Rooms, params: Params) -> dict[str, Any]:
    meeting, _user = await rooms.by_access_key(access_key)
    return await BroadcastService(rooms).update(meeting, platform, params)


@router.delete("/rooms/{access_key}/broadcasts", summary="Stop every broadcast of the room")
async def stop_broadcasts(access_key: str, rooms: Rooms) -> Response:
    meeting, _user = await rooms.by_access_key(access_key)
    await BroadcastService(rooms).stop(meeting, None)
    return Response(status_code=200)


@router.delete("/rooms/{access_key}/broadcasts/{platform}", summary="Stop the room's broadcast to one platform")
async def stop_broadcast(access_key: str, platform: str, rooms: Rooms) -> Response:
    meeting, _user = await rooms.by_access_key(access_key)
    await BroadcastService(rooms).stop(meeting, platform)
    return Response(status_code=200)
