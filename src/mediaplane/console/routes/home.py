"""The console's front page: what is there, and what to do first."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from mediaplane.console.deps import SignedInDep, TemplatesDep
from mediaplane.console.routes.instances import all_instances
from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.token.service import token_service
from mediaplane.core.urls import base_url

router = APIRouter()


@router.get("/")
async def home(
    request: Request, signed: SignedInDep, session: SessionDep, runtime: RuntimeDep, templates: TemplatesDep
) -> Response:
    rows = await all_instances(session, runtime, signed)
    pats = [p for p in await token_service.list_pats(session, signed.tenant.id) if p.revoked_at is None]
    return templates.render(
        request,
        "home.html",
        signed=signed,
        nav="home",
        title="Overview",
        rows=rows[:5],
        instance_count=len(rows),
        token_count=len(pats),
        service_count=len(runtime.registry),
        api_url=base_url(runtime.settings, request),
    )
