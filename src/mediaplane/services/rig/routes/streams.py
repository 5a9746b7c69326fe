"""`/streams`: rig's stream routes, plus delete and (de)activate."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.services.rig import preview, schemas
from mediaplane.services.rig.deps import CurrentAccount, RigInstance, current_account, require_json
from mediaplane.services.rig.inputs import json_object
from mediaplane.services.rig.live import is_live
from mediaplane.services.rig.routes import ok
from mediaplane.services.rig.service import StreamService

router = APIRouter(prefix="/streams", tags=["streams"], dependencies=[Depends(require_json), Depends(current_account)])


def stream_service(
    instance: RigInstance, account: CurrentAccount, session: SessionDep, runtime: RuntimeDep
) -> StreamService:
    return StreamService(session, runtime, instance, account)


Streams = Annotated[StreamService, Depends(stream_service)]


async def _detail(streams: Streams, stream_id: str, request: Request) -> dict[str, object]:
    stream = await streams.get(stream_id)
    destinations = await streams.destinations_of(stream)
    detail = schemas.stream_detail(stream, destinations, streams.runtime)
    if is_live(stream, streams.runtime):  # a signed link to the HLS preview's player page
        token = preview.preview_token(streams.runtime, streams.instance, stream)
        detail["previewUrl"] = f"{request.base_url}preview/{token}"
    else:
        detail["previewUrl"] = None
    return detail


@router.post("", summary="Create a stream")
async def create_stream(streams: Streams) -> JSONResponse:
    stream = await streams.create()
    return ok("New stream created", schemas.stream_item(stream, streams.runtime))


@router.get("", summary="The signed-in user's streams")
async def list_streams(streams: Streams) -> JSONResponse:
    return ok("Stream list for user", [schemas.stream_item(s, streams.runtime) for s in await streams.list()])


@router.get("/{stream_id}", summary="A stream with its destinations and live state")
async def stream_detail(stream_id: str, streams: Streams, request: Request) -> JSONResponse:
    return ok("Stream detail", await _detail(streams, stream_id, request))


@router.patch("/{stream_id}", summary="Activate or deactivate a stream (deactivating ends a live session)")
async def update_stream(stream_id: str, request: Request, streams: Streams) -> JSONResponse:
    await streams.update(stream_id, await json_object(request))
    return ok("Stream updated", await _detail(streams, stream_id, request))


@router.delete("/{stream_id}", summary="Delete a stream and its destinations (ends a live session)")
async def delete_stream(stream_id: str, streams: Streams) -> JSONResponse:
    await streams.delete(stream_id)
    return ok("Stream deleted")


@router.post("/{stream_id}/changeKey", summary="A new stream key (ends a live session)")
async def change_key(stream_id: str, streams: Streams) -> JSONResponse:
    stream = await streams.change_key(stream_id)
    return ok("New stream key", {"key": stream.stream_key, "streamID": stream.id})
