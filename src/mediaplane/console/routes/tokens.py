"""Personal access tokens: list, create (shown once), revoke (after a confirmation); service access tokens issued
with one of them (shown once), as `mediaplane service-access-token SERVICE` and `POST /servicetoken` do."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mediaplane.console.auth import SignedIn
from mediaplane.console.deps import SignedInDep, TemplatesDep, read_form, text
from mediaplane.console.render import Templates
from mediaplane.console.routes import notice, plain
from mediaplane.console.security import console_root
from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.runtime import Runtime
from mediaplane.core.token.models import PersonalAccessToken
from mediaplane.core.token.service import Principal, token_service
from mediaplane.core.urls import base_url
from mediaplane.kit.errors import BadRequest, NotFound

router = APIRouter()


async def _list_page(
    request: Request,
    templates: Templates,
    session: AsyncSession,
    runtime: Runtime,
    signed: SignedIn,
    *,
    status_code: int = 200,
    name: str = "",
    error: str | None = None,
    sat: dict[str, str] | None = None,
) -> Response:
    pats = await token_service.list_pats(session, signed.tenant.id)
    pats.sort(key=lambda p: (p.revoked_at is not None, p.created_at), reverse=False)
    return templates.render(
        request,
        "tokens.html",
        status_code=status_code,
        signed=signed,
        nav="tokens",
        title="Tokens",
        pats=pats,
        name=name,
        error=error,
        sat=sat or {},
        sat_choices={  # the service access token form's two lists: (value, label)
            "service": [(spec.id, f"{spec.title} ({spec.id})") for spec in runtime.registry],
            "pat": [(pat.id, pat.name) for pat in pats if pat.revoked_at is None],
        },
        notice=notice(request),
    )


async def _pat_of_tenant(session: AsyncSession, signed: SignedIn, pat_id: str) -> PersonalAccessToken:
    if not plain(pat_id, 36):
        raise NotFound("There is no such token in your tenant.")
    for pat in await token_service.list_pats(session, signed.tenant.id):
        if pat.id == pat_id:
            return pat
    raise NotFound("There is no such token in your tenant.")


@router.get("/tokens")
async def tokens(
    request: Request, signed: SignedInDep, session: SessionDep, runtime: RuntimeDep, templates: TemplatesDep
) -> Response:
    return await _list_page(request, templates, session, runtime, signed)


@router.post("/tokens")
async def create_token(
    request: Request, signed: SignedInDep, session: SessionDep, runtime: RuntimeDep, templates: TemplatesDep
) -> Response:
    name = text(await read_form(request), "name")
    try:
        pat, token = await token_service.create_pat(
            session, runtime, tenant_id=signed.tenant.id, user_id=signed.user.id, name=name
        )
    except BadRequest as exc:
        return await _list_page(
            request, templates, session, runtime, signed, status_code=400, name=name.strip()[:100], error=exc.message
        )
    return templates.render(
        request, "token_created.html", signed=signed, nav="tokens", title="New token", pat=pat, token=token
    )


@router.get("/tokens/{pat_id}/revoke")
async def confirm_revoke(
    pat_id: str, request: Request, signed: SignedInDep, session: SessionDep, templates: TemplatesDep
) -> Response:
    pat = await _pat_of_tenant(session, signed, pat_id)
    return templates.render(request, "token_revoke.html", signed=signed, nav="tokens", title="Revoke a token", pat=pat)


@router.post("/tokens/{pat_id}/revoke")
async def revoke(
    pat_id: str, request: Request, signed: SignedInDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    pat = await _pat_of_tenant(session, signed, pat_id)
    await token_service.revoke_pat(session, runtime, tenant_id=signed.tenant.id, pat_id=pat.id)
    return RedirectResponse(f"{console_root(request)}/tokens?done=revoked", status_code=303)


@router.post("/tokens/service")
async def create_service_token(
    request: Request, signed: SignedInDep, session: SessionDep, runtime: RuntimeDep, templates: TemplatesDep
) -> Response:
    """A SAT for one service, signed for one of the tenant's PATs: it stops working when that PAT is revoked."""
    form = await read_form(request)
    service_id, pat_id = text(form, "service"), text(form, "pat")
    spec = runtime.registry.get(service_id) if plain(service_id) else None
    pat = next((p for p in await token_service.list_pats(session, signed.tenant.id) if p.id == pat_id), None)
    if spec is None or pat is None or pat.revoked_at is not None:
        sat = {"service": service_id[:63], "pat": pat_id[:36]}
        if spec is None:
            sat["service_error"] = "Choose one of the services."
        if pat is None or pat.revoked_at is not None:
            sat["pat_error"] = "Choose one of your tenant's active tokens."
        return await _list_page(request, templates, session, runtime, signed, status_code=400, sat=sat)
    issued = token_service.issue_sat(runtime, Principal(pat.tenant_id, pat.user_id, pat.id), spec.id)
    return templates.render(
        request,
        "service_token_created.html",
        signed=signed,
        nav="tokens",
        title="New service access token",
        spec=spec,
        pat=pat,
        token=issued.token,
        expiry=datetime.fromtimestamp(issued.expiry, UTC),
        api_url=base_url(runtime.settings, request),
    )
