"""Playbacks: a hosted video played in place of a user's picture, or in a spot of its own."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from mediaplane.services.eyeson.deps import Params, Rooms
from mediaplane.services.eyeson.playbacks import PlaybackService
from mediaplane.services.eyeson.routes.rooms import start_media

router = APIRouter()


@router.post("/rooms/{access_key}/playbacks", status_code=201, summary="Play a hosted video in the room")
async def start_playback(access_key: str, rooms: Rooms, params: Params) -> dict[str, Any]:
    meeting, _user = await rooms.by_access_key(access_key)
    await start_media(rooms, meeting)
    return {"playback": await PlaybackService(rooms).start(meeting, params)}


@router.delete("/rooms/{access_key}/playbacks/{play_id}", summary="Stop a playback")
async def stop_playback(access_key: str, play_id: str, rooms: Rooms) -> Response:
    meeting, _user = await rooms.by_access_key(access_key)
    await PlaybackService(rooms).stop(meeting, play_id)
    return Response(status_code=200)
