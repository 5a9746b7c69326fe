"""What console routes depend on: the signed-in user (CSRF-checked on every unsafe method) and the templates."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, FastAPI, Request
from starlette.datastructures import FormData

from mediaplane.config import Settings
from mediaplane.console.auth import SignedIn, same_token, session_service
from mediaplane.console.render import Templates
from mediaplane.console.security import SAFE_METHODS, SESSION_COOKIE, same_origin
from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.kit.errors import Forbidden, NotFound

PLATFORM_SCOPE_KEY = "mediaplane.platform"  # the platform app the console is mounted in (set by ConsoleApp)
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"


class SignInRequired(Exception):
    """No valid session: the page sends the browser to the sign-in form (and back after it)."""


def get_templates(request: Request) -> Templates:
    templates: Templates = request.app.state.templates
    return templates


TemplatesDep = Annotated[Templates, Depends(get_templates)]


async def read_form(request: Request) -> FormData:
    """The posted form (parsed once per request; a malformed body is a 400 from Starlette)."""
    return await request.form()


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


async def check_csrf(request: Request, settings: Settings, expected: str) -> None:
    """The page's token (form field or X-CSRF-Token header) and a same-origin Origin/Referer, or 403."""
    if not same_origin(request, settings):
        raise Forbidden("This form was sent from another site, so it was refused.")
    given: object = request.headers.get(CSRF_HEADER)
    if given is None:
        given = (await read_form(request)).get(CSRF_FIELD)
    if not same_token(given, expected):
        raise Forbidden("The form's security token is missing or out of date. Reload the page and try again.")


async def signed_in(request: Request, session: SessionDep, runtime: RuntimeDep) -> SignedIn:
    signed = await session_service.load(session, runtime, request.cookies.get(SESSION_COOKIE))
    if signed is None:
        raise SignInRequired()
    if request.method not in SAFE_METHODS:
        await check_csrf(request, runtime.settings, signed.csrf_token)
    return signed


SignedInDep = Annotated[SignedIn, Depends(signed_in)]


async def signed_in_admin(signed: SignedInDep) -> SignedIn:
    """A user of the admin tenant; anyone else gets the console's "not found", as if the page did not exist."""
    if not signed.is_admin:
        raise NotFound("There is no such page.")
    return signed


AdminDep = Annotated[SignedIn, Depends(signed_in_admin)]


def platform_app(request: Request) -> FastAPI | None:
    """The running platform app (for its OpenAPI document), or None when the console runs on its own."""
    app = request.scope.get(PLATFORM_SCOPE_KEY)
    return app if isinstance(app, FastAPI) else None
