"""`/agents`: the stream config an edge agent asks for (no token, as in rig)."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.services.rig import schemas
from mediaplane.services.rig.deps import RigInstance, require_json
from mediaplane.services.rig.routes import ok
from mediaplane.services.rig.service import agent_config

router = APIRouter(prefix="/agents", tags=["agents"], dependencies=[Depends(require_json)])


@router.get("/config/{stream_key}", summary="Destinations of a stream key (1009 while it is live)")
async def stream_config(
    stream_key: str, instance: RigInstance, session: SessionDep, runtime: RuntimeDep
) -> JSONResponse:
    destinations = await agent_config(session, runtime, instance, stream_key)
    return ok("Stream Config", [schemas.destination(d) for d in destinations])
