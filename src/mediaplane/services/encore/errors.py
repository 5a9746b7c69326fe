"""Encore's error bodies: RFC 7807 problem details (Encore 1.0), plus Spring Data REST's `errors` list for
validation (Encore 0.2), so clients of either version find what they parse."""

from __future__ import annotations

from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from mediaplane.core.errors import ErrorReply

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


def respond(request: Request, reply: ErrorReply) -> Response:
    """Every error of the encore API, for the platform's error handlers."""
    if reply.field_errors is not None:
        entries = field_errors(reply.field_errors)
        detail = "; ".join(f"{e['property'] or 'body'}: {e['message']}" for e in entries) or "Invalid request"
        return problem(400, detail, request, errors=entries)
    response = problem(reply.status_code, reply.message, request)
    response.headers.update(reply.headers or {})
    return response
