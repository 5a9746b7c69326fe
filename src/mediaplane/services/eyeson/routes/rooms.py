"""Rooms, users and guests: create or join, details, listings, force stop and lock (kick: routes/moderation.py)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from mediaplane.core.deps import RuntimeDep
from mediaplane.kit.railsparams import ParamsError, as_bool
from mediaplane.services.eyeson.broadcast.state import running_views
from mediaplane.services.eyeson.deps import ApiKeyInstance, EyesonInstance, Params, Rooms, key_matches, links_for
from mediaplane.services.eyeson.errors import bad_request, not_found
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonUser
from mediaplane.services.eyeson.permalinks import PermalinkService
from mediaplane.services.eyeson.recording.views import running_recording
from mediaplane.services.eyeson.requests import start_room
from mediaplane.services.eyeson.views import participant, room_info, room_response, user_info

router = APIRouter()


async def answer(request: Request, rooms: Rooms, meeting: EyesonMeeting, user: EyesonUser) -> dict[str, Any]:
    runtime = rooms.runtime
    links = links_for(request, runtime, rooms.instance)
    stun = list(runtime.settings.eyeson_stun_urls)
    broadcasts = await running_views(rooms.session, meeting)
    recording = await running_recording(rooms.session, runtime, meeting, links.base)
    return room_response(
        meeting, user, rooms.options.team_name, links, stun_urls=stun, broadcasts=broadcasts, recording=recording
    )


async def start_media(rooms: Rooms, meeting: EyesonMeeting) -> None:
    """A meeting is ready once its media room runs (before anyone connects, as eyeson's): here, or in the process
    that holds it (requests.py)."""
    if meeting.shutdown_at is None:
        await start_room(rooms.runtime, meeting)
        await rooms.mark_ready(meeting)


@router.post("/rooms", status_code=201, summary="Create a room, or join the running meeting of its id")
async def create_room(request: Request, instance: ApiKeyInstance, rooms: Rooms, params: Params) -> dict[str, Any]:
    meeting, user = await rooms.create_or_join(params)
    await start_media(rooms, meeting)
    return await answer(request, rooms, meeting, user)


@router.get("/rooms", summary="The meetings running now")
async def list_rooms(instance: ApiKeyInstance, rooms: Rooms) -> list[dict[str, Any]]:
    return [room_info(m) for m in await rooms.repo.running_meetings()]


@router.get("/rooms/{access_key}", summary="The room, as its user sees it")
async def get_room(request: Request, access_key: str, rooms: Rooms) -> dict[str, Any]:
    meeting, user = await rooms.by_access_key(access_key)
    await rooms.repo.touch(meeting.id, rooms.now())
    return await answer(request, rooms, meeting, user)


@router.delete(
    "/rooms/{identifier}", status_code=204, summary="Stop a meeting (room id with the API key, or access key)"
)
async def stop_room(request: Request, identifier: str, instance: EyesonInstance, rooms: Rooms) -> Response:
    with_key = key_matches(instance, request.headers.get("authorization"))
    if with_key:
        meeting = await rooms.repo.running_meeting(identifier)
        if meeting is not None:
            await rooms.shutdown(meeting)
            return Response(status_code=204)
    user = await rooms.repo.user_by_access_key(identifier) if len(identifier) <= 64 else None
    if user is None and with_key:
        raise not_found("unknown room, or no meeting running in it")
    meeting, _user = await rooms.by_access_key(identifier)
    await rooms.shutdown(meeting)
    return Response(status_code=204)


@router.get("/rooms/{room_id}/users", summary="The users of a room's current (or last) meeting")
async def list_users(room_id: str, instance: ApiKeyInstance, rooms: Rooms, params: Params) -> list[dict[str, Any]]:
    meeting = await rooms.meeting_of_room(room_id)
    online = None
    if params.get("online") not in (None, ""):
        try:
            online = as_bool(params.get("online"), None)
        except ParamsError:
            raise bad_request("online must be true or false") from None
    users = await rooms.repo.users(meeting.id, online=online)
    return [participant(u, meeting) for u in users]


@router.get("/rooms/{access_key}/users/{user_id}", summary="A user of the meeting")
async def get_user(access_key: str, user_id: str, rooms: Rooms) -> dict[str, Any]:
    meeting, _me = await rooms.by_access_key(access_key)
    user = await rooms.repo.user(meeting.id, user_id)
    if user is None:
        raise not_found("unknown user")
    return user_info(user)


@router.post("/rooms/{access_key}/lock", status_code=201, summary="Lock the meeting: no new users or guests")
async def lock_room(access_key: str, rooms: Rooms) -> Response:
    meeting, _me = await rooms.by_access_key(access_key)
    await rooms.lock(meeting)
    return Response(status_code=201)


@router.post("/guests/{guest_token}", status_code=201, summary="Join the running meeting as a guest")
async def join_guest(request: Request, guest_token: str, rooms: Rooms, params: Params) -> dict[str, Any]:
    permalinks = PermalinkService(rooms.session, rooms.runtime, rooms.instance)
    running = await permalinks.guest_meeting(guest_token) if len(guest_token) <= 64 else None
    meeting, user = await rooms.join_guest(guest_token, params, running)
    await start_media(rooms, meeting)
    return await answer(request, rooms, meeting, user)


@router.post("/rooms/{access_key}/messages", status_code=201, summary="Send a chat or custom message to everyone")
async def send_message(access_key: str, rooms: Rooms, params: Params, runtime: RuntimeDep) -> Response:
    meeting, user = await rooms.by_access_key(access_key)
    await rooms.message(meeting, user, params)
    return Response(status_code=201)
