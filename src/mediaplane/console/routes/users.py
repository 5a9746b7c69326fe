"""The tenant's users: list, add (with a password), set a new password, remove (after a confirmation)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mediaplane.console.auth import MIN_PASSWORD, SignedIn
from mediaplane.console.deps import SignedInDep, TemplatesDep, read_form, text
from mediaplane.console.render import Templates
from mediaplane.console.routes import plain
from mediaplane.console.security import console_root
from mediaplane.console.users import password_error, user_admin
from mediaplane.core.deps import SessionDep
from mediaplane.core.tenant.models import User
from mediaplane.core.tenant.repository import UserRepository
from mediaplane.kit.errors import BadRequest, Conflict, NotFound
from mediaplane.kit.security import sha256_hex

router = APIRouter()

# Fixed texts a redirect may ask for (`?done=<key>`), like the other pages' notices.
NOTICES = {
    "added": "The user is added and can sign in.",
    "password": "The password is set. That user's sessions were signed out.",
    "removed": "The user is removed, with their sessions and tokens.",
}
SELF_REMOVAL = "You cannot remove yourself. Another user of your tenant can."


def _passwords(form_password: str, confirm: str) -> dict[str, str]:
    error = password_error(form_password)
    if error:
        return {"password": error}
    if form_password != confirm:
        return {"confirm_password": "The two passwords differ."}
    return {}


async def _list_page(
    request: Request,
    templates: Templates,
    session: AsyncSession,
    signed: SignedIn,
    *,
    status_code: int = 200,
    username: str = "",
    errors: dict[str, str] | None = None,
) -> Response:
    users = await UserRepository(session).list_for_tenant(signed.tenant.id)
    return templates.render(
        request,
        "users.html",
        status_code=status_code,
        signed=signed,
        nav="users",
        title="Users",
        users=users,
        username=username,
        errors=errors or {},
        min_password=MIN_PASSWORD,
        notice=NOTICES.get(request.query_params.get("done", "")),
    )


async def _user_of_tenant(session: AsyncSession, signed: SignedIn, user_id: str) -> User:
    user = await UserRepository(session).get_in_tenant(signed.tenant.id, user_id) if plain(user_id, 36) else None
    if user is None:
        raise NotFound("There is no such user in your tenant.")
    return user


def _done(request: Request, key: str) -> Response:
    return RedirectResponse(f"{console_root(request)}/users?done={key}", status_code=303)


@router.get("/users")
async def users(request: Request, signed: SignedInDep, session: SessionDep, templates: TemplatesDep) -> Response:
    return await _list_page(request, templates, session, signed)


@router.post("/users")
async def add_user(request: Request, signed: SignedInDep, session: SessionDep, templates: TemplatesDep) -> Response:
    form = await read_form(request)
    username = text(form, "username").strip()
    password = text(form, "password")
    errors = _passwords(password, text(form, "confirm_password"))
    if not errors:
        try:
            await user_admin.add(session, signed.tenant.id, username, password)
        except (BadRequest, Conflict) as exc:
            errors = {"username": exc.message}
    if errors:
        return await _list_page(
            request, templates, session, signed, status_code=400, username=username[:100], errors=errors
        )
    return _done(request, "added")


def _password_page(
    request: Request, templates: Templates, signed: SignedIn, user: User, errors: dict[str, Any], status_code: int = 200
) -> Response:
    return templates.render(
        request,
        "user_password.html",
        status_code=status_code,
        signed=signed,
        nav="users",
        title="Set a password",
        user=user,
        errors=errors,
        min_password=MIN_PASSWORD,
    )


@router.get("/users/{user_id}/password")
async def password_form(
    user_id: str, request: Request, signed: SignedInDep, session: SessionDep, templates: TemplatesDep
) -> Response:
    user = await _user_of_tenant(session, signed, user_id)
    return _password_page(request, templates, signed, user, {})


@router.post("/users/{user_id}/password")
async def set_password(
    user_id: str, request: Request, signed: SignedInDep, session: SessionDep, templates: TemplatesDep
) -> Response:
    user = await _user_of_tenant(session, signed, user_id)
    form = await read_form(request)
    password = text(form, "password")
    errors = _passwords(password, text(form, "confirm_password"))
    if errors:
        return _password_page(request, templates, signed, user, errors, status_code=400)
    # Setting one's own password here keeps this session, as the Account page does.
    keep = sha256_hex(signed.session_id) if user.id == signed.user.id else None
    await user_admin.set_password(session, user, password, keep=keep)
    return _done(request, "password")


def _remove_page(
    request: Request, templates: Templates, signed: SignedIn, user: User, error: str | None, status_code: int = 200
) -> Response:
    return templates.render(
        request,
        "user_remove.html",
        status_code=status_code,
        signed=signed,
        nav="users",
        title="Remove a user",
        user=user,
        error=error,
    )


@router.get("/users/{user_id}/remove")
async def confirm_remove(
    user_id: str, request: Request, signed: SignedInDep, session: SessionDep, templates: TemplatesDep
) -> Response:
    user = await _user_of_tenant(session, signed, user_id)
    error = SELF_REMOVAL if user.id == signed.user.id else None
    return _remove_page(request, templates, signed, user, error)


@router.post("/users/{user_id}/remove")
async def remove(
    user_id: str, request: Request, signed: SignedInDep, session: SessionDep, templates: TemplatesDep
) -> Response:
    user = await _user_of_tenant(session, signed, user_id)
    if user.id == signed.user.id:
        return _remove_page(request, templates, signed, user, SELF_REMOVAL, status_code=400)
    try:
        await user_admin.remove(session, user)
    except BadRequest as exc:
        return _remove_page(request, templates, signed, user, exc.message, status_code=400)
    return _done(request, "removed")
