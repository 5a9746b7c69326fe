"""Signing in and out, and changing one's password."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Query, Request
from starlette.responses import RedirectResponse, Response

from mediaplane.console.auth import (
    MIN_PASSWORD,
    SignInRefused,
    same_token,
    session_service,
    sign_in_service,
    sign_in_token_for,
)
from mediaplane.console.deps import SignedInDep, TemplatesDep, read_form, text
from mediaplane.console.routes import notice, safe_next
from mediaplane.console.security import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    SIGN_IN_COOKIE_AGE,
    clear_cookie,
    console_root,
    same_origin,
    set_cookie,
    set_session_cookie,
)
from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.kit.errors import Forbidden

router = APIRouter()
NONCE_LENGTH = 32


@router.get("/sign-in")
async def sign_in_page(
    request: Request,
    session: SessionDep,
    runtime: RuntimeDep,
    templates: TemplatesDep,
    next_: str = Query("", alias="next"),
) -> Response:
    target = safe_next(request, next_)
    if await session_service.load(session, runtime, request.cookies.get(SESSION_COOKIE)) is not None:
        return RedirectResponse(target, status_code=303)
    nonce = request.cookies.get(SIGN_IN_COOKIE, "")
    if len(nonce) != NONCE_LENGTH or not nonce.isascii():
        nonce = secrets.token_urlsafe(24)
    response = templates.render(
        request,
        "sign_in.html",
        title="Sign in",
        sign_in_token=sign_in_token_for(runtime, nonce),
        next=target,
        tenant="",
        username="",
        error=None,
        notice=notice(request),
    )
    set_cookie(response, request, runtime.settings, SIGN_IN_COOKIE, nonce, SIGN_IN_COOKIE_AGE)
    return response


@router.post("/sign-in")
async def sign_in(request: Request, session: SessionDep, runtime: RuntimeDep, templates: TemplatesDep) -> Response:
    form = await read_form(request)
    nonce = request.cookies.get(SIGN_IN_COOKIE, "")
    token = text(form, "csrf_token")
    if (
        not same_origin(request, runtime.settings)
        or not nonce
        or not same_token(token, sign_in_token_for(runtime, nonce))
    ):
        raise Forbidden("This sign-in form is out of date or was sent from another site. Open the sign-in page again.")
    tenant, username = text(form, "tenant"), text(form, "username")
    target = safe_next(request, text(form, "next"))
    try:
        user = await sign_in_service.sign_in(session, runtime, tenant, username, text(form, "password"))
    except SignInRefused as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        return templates.render(
            request,
            "sign_in.html",
            status_code=exc.status_code,
            headers=headers,
            title="Sign in",
            sign_in_token=token,
            next=target,
            tenant=tenant.strip()[:63],
            username=username.strip()[:100],
            error=exc.message,
        )
    previous = request.cookies.get(SESSION_COOKIE)
    if previous:
        await session_service.close(session, previous)
    session_id = await session_service.open(session, runtime, user)
    response = RedirectResponse(target, status_code=303)
    set_session_cookie(response, request, runtime.settings, session_id)
    clear_cookie(response, request, runtime.settings, SIGN_IN_COOKIE)
    return response


@router.post("/sign-out")
async def sign_out(request: Request, signed: SignedInDep, session: SessionDep, runtime: RuntimeDep) -> Response:
    await session_service.close(session, signed.session_id)
    response = RedirectResponse(f"{console_root(request)}/sign-in?done=signed-out", status_code=303)
    clear_cookie(response, request, runtime.settings, SESSION_COOKIE)
    return response


@router.get("/account")
async def account(request: Request, signed: SignedInDep, templates: TemplatesDep) -> Response:
    return templates.render(
        request,
        "account.html",
        signed=signed,
        nav="account",
        title="Account",
        errors={},
        min_password=MIN_PASSWORD,
        notice=notice(request),
    )


@router.post("/account/password")
async def change_password(
    request: Request, signed: SignedInDep, session: SessionDep, templates: TemplatesDep
) -> Response:
    form = await read_form(request)
    errors = await sign_in_service.change_password(
        session, signed, text(form, "current_password"), text(form, "new_password"), text(form, "confirm_password")
    )
    if errors:
        return templates.render(
            request,
            "account.html",
            status_code=400,
            signed=signed,
            nav="account",
            title="Account",
            errors=errors,
            min_password=MIN_PASSWORD,
        )
    return RedirectResponse(f"{console_root(request)}/account?done=password", status_code=303)
