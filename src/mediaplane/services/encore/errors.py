"""Encore's error bodies: RFC 7807 problem details (Encore 1.0), plus Spring Data REST's `errors` list for
validation (Encore 0.2), so clients of either version find what they parse."""

from __future__ import annotations

import logging
import uuid
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mediaplane.kit.errors import MediaplaneError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
LOCATIONS = ("body", "query", "path", "header")


def problem_body(status: int, detail: str, instance: str | None = None, **extra: Any) -> dict[str, Any]:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if instance is not None:
        body["instance"] = instance
    body.update(extra)
    return body


def problem(status: int, detail: str, request: Request | None = None, **extra: Any) -> JSONResponse:
    instance = request.url.path if request is not None else None
    return JSONResponse(problem_body(status, detail, instance, **extra), status_code=status, media_type=PROBLEM_JSON)


def field_errors(errors: list[Any], entity: str = "EncoreJob") -> list[dict[str, Any]]:
    """Pydantic errors as Spring Data REST's `{entity, property, invalidValue, message}` entries."""
    entries = []
    for error in errors:
        loc = [str(p) for p in error.get("loc", ()) if p not in LOCATIONS]
        # Discriminated unions add the tag to the path (`inputs.0.AudioVideo.uri`): drop it.
        loc = [p for p in loc if p not in ("AudioVideo", "Video", "Audio")]
        entries.append(
            {
                "entity": entity,
                "property": _property(loc),
                "invalidValue": _shown(error.get("input")),
                "message": str(error.get("msg", "invalid")),
            }
        )
    return entries


def _property(loc: list[str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text


def _shown(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return None


def validation_problem(errors: list[Any], request: Request | None) -> JSONResponse:
    entries = field_errors(errors)
    detail = "; ".join(f"{e['property'] or 'body'}: {e['message']}" for e in entries) or "Invalid request"
    return problem(400, detail, request, errors=entries)


def install_encore_errors(app: FastAPI) -> None:
    @app.exception_handler(MediaplaneError)
    async def _mediaplane(request: Request, exc: MediaplaneError) -> JSONResponse:
        response = problem(exc.status_code, exc.message, request)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def _request(request: Request, exc: RequestValidationError) -> JSONResponse:
        return validation_problem(list(exc.errors()), request)

    @app.exception_handler(ValidationError)
    async def _model(request: Request, exc: ValidationError) -> JSONResponse:
        return validation_problem(list(exc.errors()), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        response = problem(exc.status_code, str(exc.detail), request)
        response.headers.update(getattr(exc, "headers", None) or {})
        return response

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        error_id = uuid.uuid4()
        log.exception("unexpected error %s on %s %s", error_id, request.method, request.url.path)
        return problem(500, f"An unexpected error occurred (errorId={error_id})", request)
