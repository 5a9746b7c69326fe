"""`GET /api/v2/ok` (no token) and `POST /oauth/token` (the password grant)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.services.gosd.accounts import AccountService, read_grant
from mediaplane.services.gosd.deps import GosdInstance
from mediaplane.services.gosd.inputs import request_body
from mediaplane.services.gosd.routes import PREFIX

router = APIRouter(prefix=PREFIX, tags=["auth"])


@router.get("/api/v2/ok", summary="Alive: the server time (no token needed)")
async def ok(runtime: RuntimeDep) -> dict[str, str]:
    now = runtime.clock.now().astimezone()
    return {"ok": f"{now:%Y-%m-%d %H:%M:%S}.{now.microsecond:06d}000 {now:%z} {now:%Z}"}


@router.post(
    "/oauth/token",
    summary="A token for username and password (grant_type=password, client_id, client_secret)",
    description="The body is multipart (curl -F), a URL-encoded form or JSON. After 5 failed logins for a username "
    "within 15 minutes, it is refused with 429 and Retry-After until the oldest of them is 15 minutes old.",
)
async def token(request: Request, instance: GosdInstance, session: SessionDep, runtime: RuntimeDep) -> JSONResponse:
    async with request_body(request) as body:
        grant = read_grant(body.fields, request.headers.get("authorization"))
    answer: dict[str, Any] = await AccountService(session, runtime, instance).issue_token(grant)
    return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})
