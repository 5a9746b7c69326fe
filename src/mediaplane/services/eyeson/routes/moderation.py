"""Moderation: mute and unmute a participant, kick (with a ban), lift a ban, unlock the meeting."""

from __future__ import annotations

from fastapi import APIRouter, Response

from mediaplane.kit.railsparams import ParamsError, as_bool
from mediaplane.services.eyeson.deps import Params, Rooms
from mediaplane.services.eyeson.errors import bad_request
from mediaplane.services.eyeson.moderation import ModerationService

router = APIRouter()


@router.post("/rooms/{access_key}/users/{user_id}/mute", summary="Mute a participant: nobody hears them")
async def mute(access_key: str, user_id: str, rooms: Rooms) -> Response:
    meeting, _me = await rooms.by_access_key(access_key)
    await ModerationService(rooms).mute(meeting, user_id, True)
    return Response(status_code=200)


@router.delete("/rooms/{access_key}/users/{user_id}/mute", summary="Unmute a participant")
async def unmute(access_key: str, user_id: str, rooms: Rooms) -> Response:
    meeting, _me = await rooms.by_access_key(access_key)
    await ModerationService(rooms).mute(meeting, user_id, False)
    return Response(status_code=200)


@router.delete("/rooms/{access_key}/users/{user_id}", summary="Kick a user; with ban=true they cannot come back")
async def kick_user(access_key: str, user_id: str, rooms: Rooms, params: Params) -> Response:
    meeting, _me = await rooms.by_access_key(access_key)
    try:
        ban = as_bool(params.get("ban"), False, name="ban")
    except ParamsError as exc:
        raise bad_request(str(exc)) from None
    await ModerationService(rooms).kick(meeting, user_id, ban=ban)
    return Response(status_code=200)


@router.delete("/rooms/{access_key}/users/{user_id}/ban", summary="Lift a user's ban")
async def unban_user(access_key: str, user_id: str, rooms: Rooms) -> Response:
    meeting, _me = await rooms.by_access_key(access_key)
    await ModerationService(rooms).unban(meeting, user_id)
    return Response(status_code=200)


@router.delete("/rooms/{access_key}/lock", summary="Unlock the meeting: new users and guests may join again")
async def unlock_room(access_key: str, rooms: Rooms) -> Response:
    meeting, _me = await rooms.by_access_key(access_key)
    await ModerationService(rooms).unlock(meeting)
    return Response(status_code=200)
