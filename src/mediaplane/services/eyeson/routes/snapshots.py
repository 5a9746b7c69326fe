"""Snapshots: take one of the meeting's picture and read it (access key), read, list and delete them (API key),
and the signed download of the JPEG."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from mediaplane.services.eyeson.deps import ApiKeyInstance, Params, Rooms
from mediaplane.services.eyeson.routes.downloads import check_link, stored_file
from mediaplane.services.eyeson.routes.recordings import base_of
from mediaplane.services.eyeson.snapshots import SnapshotService

router = APIRouter()


@router.post("/rooms/{access_key}/snapshot", status_code=201, summary="Take a snapshot of the meeting's picture")
async def take_snapshot(request: Request, access_key: str, rooms: Rooms) -> dict[str, Any]:
    meeting, user = await rooms.by_access_key(access_key)
    return await SnapshotService(rooms).take(meeting, user, base_of(request, rooms))


@router.get("/rooms/{access_key}/snapshots/{snapshot_id}", summary="A snapshot of the meeting's room")
async def get_room_snapshot(request: Request, access_key: str, snapshot_id: str, rooms: Rooms) -> dict[str, Any]:
    meeting, _user = await rooms.by_access_key(access_key)
    service = SnapshotService(rooms)
    return await service.describe(await service.get(snapshot_id, meeting), base_of(request, rooms))


@router.get("/snapshots/{snapshot_id}", summary="A snapshot, with a fresh download link")
async def get_snapshot(request: Request, snapshot_id: str, instance: ApiKeyInstance, rooms: Rooms) -> dict[str, Any]:
    service = SnapshotService(rooms)
    return await service.describe(await service.get(snapshot_id), base_of(request, rooms))


@router.delete("/snapshots/{snapshot_id}", summary="Delete a snapshot and its picture")
async def delete_snapshot(snapshot_id: str, instance: ApiKeyInstance, rooms: Rooms) -> Response:
    service = SnapshotService(rooms)
    await service.delete(await service.get(snapshot_id))
    return Response(status_code=200)


@router.get("/rooms/{room_id}/snapshots", summary="The snapshots of a room's meetings, newest first")
async def list_snapshots(
    request: Request, room_id: str, instance: ApiKeyInstance, rooms: Rooms, params: Params
) -> list[dict[str, Any]]:
    return await SnapshotService(rooms).of_room(room_id, params, base_of(request, rooms))


@router.get("/snapshots/{snapshot_id}/download", summary="The snapshot's JPEG (a signed, expiring link)")
async def download_snapshot(request: Request, snapshot_id: str, rooms: Rooms) -> Response:
    check_link(request, rooms, "snapshots", snapshot_id)
    snapshot = await SnapshotService(rooms).get(snapshot_id)
    return await stored_file(request, rooms, snapshot.storage_key, "image/jpeg", "the snapshot's picture is gone")
