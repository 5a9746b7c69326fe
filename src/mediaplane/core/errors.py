"""The platform's error format: OSC answers `{"reason": "..."}` with the status code."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from mediaplane.kit.errors import MediaplaneError

log = logging.getLogger(__name__)


def describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors():
        loc = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header"))
        parts.append(f"{loc}: {error.get('msg')}" if loc else str(error.get("msg")))
    return "; ".join(parts) or "invalid request"


ErrorRenderer = Callable[[int, str], dict[str, Any]]


def reason_body(status_code: int, message: str) -> dict[str, Any]:
    """The platform's (OSC's) error body."""
    return {"reason": message}


def reason(status_code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(reason_body(status_code, message), status_code=status_code, headers=headers)


def install_error_handlers(app: FastAPI, render: ErrorRenderer = reason_body) -> None:
    """Every error an app can meet, rendered by `render` in its API's own format; bad input is never a 500."""

    def respond(status_code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(render(status_code, message), status_code=status_code, headers=headers)

    @app.exception_handler(MediaplaneError)
    async def _mediaplane(request: Request, exc: MediaplaneError) -> JSONResponse:
        if exc.status_code >= 500:
            log.error("request failed: %s", exc.message)
        return respond(exc.status_code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return respond(400, describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return respond(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        return respond(500, "Internal server error")
