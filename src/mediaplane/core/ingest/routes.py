"""nginx-rtmp's notify hooks: form POSTs answered 2xx (go on) or 403 (refuse / drop the connection)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from mediaplane.core.deps import get_runtime
from mediaplane.core.ingest.manager import current_manager

router = APIRouter(include_in_schema=False)


@router.post("/_ingest/{token}/{event}")
async def ingest_hook(token: str, event: str, request: Request) -> PlainTextResponse:
    manager = current_manager(get_runtime(request))
    if manager is None or not manager.token_ok(token):
        return PlainTextResponse("no ingest here", status_code=403)
    form = {k: str(v) for k, v in (await request.form()).items()}
    if event == "publish":
        refused = await manager.on_publish(form)
        if refused is not None:
            return PlainTextResponse(refused.message, status_code=409 if refused.reason == "in_use" else 403)
        return PlainTextResponse("ok")
    if event == "publish_done":
        await manager.on_publish_done(form)
        return PlainTextResponse("ok")
    if event == "update":
        allowed = await manager.on_update(form)
        return PlainTextResponse("ok" if allowed else "dropped", status_code=200 if allowed else 403)
    return PlainTextResponse("unknown hook", status_code=404)
