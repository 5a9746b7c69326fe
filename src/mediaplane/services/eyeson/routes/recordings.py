"""Recordings: start and stop a meeting's (access key), read, list and delete them (API key), and the signed
download of the file."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from mediaplane.services.eyeson.deps import ApiKeyInstance, Params, Rooms, links_for
from mediaplane.services.eyeson.errors import not_found
from mediaplane.services.eyeson.recordings import RecordingService
from mediaplane.services.eyeson.rooms import RoomService
from mediaplane.services.eyeson.routes.downloads import check_link, stored_file

router = APIRouter()


def base_of(request: Request, rooms: RoomService) -> str:
    return links_for(request, rooms.runtime, rooms.instance).base


@router.post("/rooms/{access_key}/recording", status_code=201, summary="Start recording the meeting")
async def start_recording(request: Request, access_key: str, rooms: Rooms) -> dict[str, Any]:
    meeting, user = await rooms.by_access_key(access_key)
    return await RecordingService(rooms).start(meeting, user, base_of(request, rooms))


@router.delete("/rooms/{access_key}/recording", summary="Stop the meeting's recording")
async def stop_recording(request: Request, access_key: str, rooms: Rooms) -> dict[str, Any]:
    meeting, _user = await rooms.by_access_key(access_key)
    return await RecordingService(rooms).stop(meeting, base_of(request, rooms))


@router.get("/recordings/{recording_id}", summary="A recording, with a fresh download link once it is ready")
async def get_recording(request: Request, recording_id: str, instance: ApiKeyInstance, rooms: Rooms) -> dict[str, Any]:
    service = RecordingService(rooms)
    return await service.describe(await service.get(recording_id), base_of(request, rooms))


@router.delete("/recordings/{recording_id}", summary="Delete a recording and its file")
async def delete_recording(recording_id: str, instance: ApiKeyInstance, rooms: Rooms) -> Response:
    service = RecordingService(rooms)
    await service.delete(await service.get(recording_id))
    return Response(status_code=200)


@router.get("/rooms/{room_id}/recordings", summary="The recordings of a room's meetings, newest first")
async def list_recordings(
    request: Request, room_id: str, instance: ApiKeyInstance, rooms: Rooms, params: Params
) -> list[dict[str, Any]]:
    return await RecordingService(rooms).of_room(room_id, params, base_of(request, rooms))


@router.get("/recordings/{recording_id}/download", summary="The recording's file (a signed, expiring link)")
async def download_recording(request: Request, recording_id: str, rooms: Rooms) -> Response:
    check_link(request, rooms, "recordings", recording_id)
    recording = await RecordingService(rooms).get(recording_id)
    if recording.status != "ready":
        raise not_found("the recording's file is not ready")
    return await stored_file(request, rooms, recording.storage_key, "video/webm", "the recording's file is gone")
