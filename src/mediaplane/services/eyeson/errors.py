"""eyeson's error format: `{"error": "..."}` with the HTTP status (the clients read `error`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from mediaplane.kit.errors import MediaplaneError

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from mediaplane.core.errors import ErrorReply

DEFAULT_MESSAGES = {
    400: "bad request",
    401: "unauthorized",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    406: "not acceptable",
    409: "conflict",
    410: "gone",
    413: "request too large",
    423: "locked",
}


class EyesonError(MediaplaneError):
    def __init__(self, status_code: int, message: str | None = None) -> None:
        message = message or DEFAULT_MESSAGES.get(status_code, "error")
        super().__init__(message, status_code=status_code, code=str(status_code))


def bad_request(message: str) -> EyesonError:
    return EyesonError(400, message)


def unauthorized(message: str = "invalid api key") -> EyesonError:
    return EyesonError(401, message)


def not_found(message: str = "not found") -> EyesonError:
    return EyesonError(404, message)


def gone(message: str = "meeting has ended") -> EyesonError:
    return EyesonError(410, message)


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": message}


async def handle_eyeson_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, EyesonError)
    return JSONResponse(error_body(exc.status_code, exc.message), status_code=exc.status_code, headers=exc.headers)


def respond(request: Request, reply: ErrorReply) -> Response:
    """Every other error (unknown path, wrong method, invalid input, unexpected faults) in eyeson's format."""
    message = reply.message
    if reply.status_code in (404, 405) or reply.field_errors is not None:
        message = DEFAULT_MESSAGES.get(reply.status_code, message)
    headers = {k: v for k, v in (reply.headers or {}).items() if k.lower() != "content-type"}
    return JSONResponse(error_body(reply.status_code, message), status_code=reply.status_code, headers=headers)
