"""How the console answers what goes wrong: HTML pages, a redirect to sign in, never a 500 for bad input."""

from __future__ import annotations

import logging
import uuid
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import RedirectResponse, Response

from mediaplane.console.deps import SignInRequired, get_templates
from mediaplane.console.security import SAFE_METHODS, SESSION_COOKIE, clear_cookie, console_root
from mediaplane.core.deps import get_runtime
from mediaplane.kit.errors import MediaplaneError

log = logging.getLogger(__name__)

TITLES = {
    400: "Bad request",
    403: "Refused",
    404: "Not found",
    405: "Not allowed",
    409: "Conflict",
    413: "Too large",
    429: "Too many attempts",
    503: "Unavailable",
}


class PageError(Exception):
    """Carries a finished page out of a route by raising, so the request's transaction is rolled back (a form
    that failed halfway through its writes is shown again with nothing of it kept)."""

    def __init__(self, response: Response) -> None:
        super().__init__("page error")
        self.response = response


def error_page(request: Request, status_code: int, message: str, headers: dict[str, str] | None = None) -> Response:
    title = TITLES.get(status_code, "Error" if status_code < 500 else "Something went wrong")
    return get_templates(request).render(
        request, "error.html", status_code=status_code, headers=headers, title=title, message=message
    )


def install_console_errors(app: FastAPI) -> None:
    @app.exception_handler(SignInRequired)
    async def _sign_in(request: Request, exc: SignInRequired) -> Response:
        root = console_root(request)
        target = f"{root}/sign-in"
        if request.method in SAFE_METHODS:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            target += f"?next={quote(path, safe='/')}"
        response = RedirectResponse(target, status_code=303)
        if SESSION_COOKIE in request.cookies:
            clear_cookie(response, request, get_runtime(request).settings, SESSION_COOKIE)
        return response

    @app.exception_handler(PageError)
    async def _page(request: Request, exc: PageError) -> Response:
        return exc.response

    @app.exception_handler(MediaplaneError)
    async def _mediaplane(request: Request, exc: MediaplaneError) -> Response:
        if exc.status_code >= 500:
            log.error("console request failed: %s", exc.message)
        return error_page(request, exc.status_code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        return error_page(request, 400, "The request was incomplete or malformed.")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        message = "There is no such page." if exc.status_code == 404 else str(exc.detail)
        return error_page(request, exc.status_code, message, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        error_id = uuid.uuid4()
        log.exception("unexpected console error %s on %s %s", error_id, request.method, request.url.path)
        return error_page(request, 500, f"An unexpected error occurred (error id {error_id}).")
