"""The platform's error format: OSC answers `{"reason": "..."}` with the status code."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mediaplane.kit.errors import MediaplaneError

log = logging.getLogger(__name__)


def describe_errors(errors: list[Any]) -> str:
    parts = []
    for error in errors:
        loc = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header"))
        parts.append(f"{loc}: {error.get('msg')}" if loc else str(error.get("msg")))
    return "; ".join(parts) or "invalid request"


ErrorRenderer = Callable[[int, str], dict[str, Any]]


@dataclass(frozen=True)
class ErrorReply:
    """What went wrong, for an API to answer in its own format."""

    status_code: int
    message: str
    headers: dict[str, str] | None = None
    # Validation errors as pydantic reports them (`loc`, `msg`, `input`), for formats that list fields.
    field_errors: list[Any] | None = None


ErrorResponder = Callable[[Request, ErrorReply], Response]


def body_responder(render: ErrorRenderer) -> ErrorResponder:
    """A responder for formats that are a JSON body made from the status and message alone."""

    def respond(request: Request, reply: ErrorReply) -> Response:
        return JSONResponse(render(reply.status_code, reply.message), reply.status_code, headers=reply.headers)

    return respond


def reason_body(status_code: int, message: str) -> dict[str, Any]:
    """The platform's (OSC's) error body."""
    return {"reason": message}


def reason(status_code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(reason_body(status_code, message), status_code=status_code, headers=headers)


def install_error_handlers(app: FastAPI, respond: ErrorResponder | None = None) -> None:
    """Every error an app can meet, answered by `respond` in its API's own format; bad input is never a 500.
    Unexpected errors are logged with an id that the answer carries."""
    answer = respond or body_responder(reason_body)

    @app.exception_handler(MediaplaneError)
    async def _mediaplane(request: Request, exc: MediaplaneError) -> Response:
        if exc.status_code >= 500:
            log.error("request failed: %s", exc.message)
        return answer(request, ErrorReply(exc.status_code, exc.message, exc.headers))

    async def _invalid(request: Request, exc: RequestValidationError | ValidationError) -> Response:
        errors = list(exc.errors())
        return answer(request, ErrorReply(400, describe_errors(errors), field_errors=errors))

    app.add_exception_handler(RequestValidationError, _invalid)  # type: ignore[arg-type]
    app.add_exception_handler(ValidationError, _invalid)  # type: ignore[arg-type]

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        return answer(request, ErrorReply(exc.status_code, str(exc.detail), getattr(exc, "headers", None)))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        error_id = uuid.uuid4()
        log.exception("unexpected error %s on %s %s", error_id, request.method, request.url.path)
        return answer(request, ErrorReply(500, f"An unexpected error occurred (errorId={error_id})"))
