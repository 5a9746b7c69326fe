"""`/streams/{id}/destination`: add, list, update and remove where a stream is relayed to
(`/destinations` is accepted as well)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mediaplane.services.rig import schemas
from mediaplane.services.rig.deps import current_account, require_json
from mediaplane.services.rig.inputs import json_object
from mediaplane.services.rig.routes import ok
from mediaplane.services.rig.routes.streams import Streams

router = APIRouter(
    prefix="/streams/{stream_id}", tags=["destinations"], dependencies=[Depends(require_json), Depends(current_account)]
)
ONE = "/destination"
ALIAS = "/destinations"


@router.post(ONE, summary="Add a destination: YouTube, Twitch or Custom (any rtmp:// or rtmps:// URL)")
@router.post(ALIAS, include_in_schema=False)
async def add_destination(stream_id: str, request: Request, streams: Streams) -> JSONResponse:
    destination = await streams.add_destination(stream_id, await json_object(request))
    return ok("Stream destination added", schemas.destination(destination))


@router.get(ONE, summary="The destinations of a stream, with their relay state")
@router.get(ALIAS, include_in_schema=False)
async def list_destinations(stream_id: str, streams: Streams) -> JSONResponse:
    stream = await streams.get(stream_id)
    return ok("Stream destinations", [schemas.destination(d) for d in await streams.destinations_of(stream)])


@router.patch(ONE + "/{destination_id}", summary="Update a destination: isActive, streamKey")
@router.patch(ALIAS + "/{destination_id}", include_in_schema=False)
async def update_destination(stream_id: str, destination_id: str, request: Request, streams: Streams) -> JSONResponse:
    destination = await streams.update_destination(stream_id, destination_id, await json_object(request))
    return ok("Stream destination updated", schemas.destination(destination))


@router.delete(ONE + "/{destination_id}", summary="Remove a destination")
@router.delete(ALIAS + "/{destination_id}", include_in_schema=False)
async def remove_destination(stream_id: str, destination_id: str, streams: Streams) -> JSONResponse:
    await streams.remove_destination(stream_id, destination_id)
    return ok("Stream destination removed")
