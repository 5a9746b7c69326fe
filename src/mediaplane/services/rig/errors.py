"""rig's error envelope: `{message, errorCode, details}` with rig's codes 1000-1009 and their HTTP statuses."""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from mediaplane.kit.errors import MediaplaneError

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from mediaplane.core.errors import ErrorReply


class Code(IntEnum):
    NOT_FOUND = 1000
    METHOD_NOT_ALLOWED = 1001
    CONTENT_TYPE = 1002
    INVALID_CREDENTIALS = 1003
    MISSING_INPUT = 1004
    INVALID_INPUT = 1005
    CREATE_FAILED = 1006
    UPDATE_FAILED = 1007
    FETCH_FAILED = 1008
    IN_USE = 1009


# rig's rest/errors.go: the default message and HTTP status of each code.
DEFAULTS: dict[Code, tuple[str, int]] = {
    Code.NOT_FOUND: ("Not found", 404),
    Code.METHOD_NOT_ALLOWED: ("Method not allowed", 405),
    Code.CONTENT_TYPE: ("Content-Type should be application/json", 415),
    Code.INVALID_CREDENTIALS: ("Invalid credentials", 401),
    Code.MISSING_INPUT: ("Missing required input", 400),
    Code.INVALID_INPUT: ("Invalid input", 400),
    Code.CREATE_FAILED: ("Unable to create resource", 400),
    Code.UPDATE_FAILED: ("Unable to update resource", 400),
    Code.FETCH_FAILED: ("Unable to fetch resource", 400),
    Code.IN_USE: ("Resource is already in use", 409),
}
BY_STATUS = {404: Code.NOT_FOUND, 405: Code.METHOD_NOT_ALLOWED, 415: Code.CONTENT_TYPE, 401: Code.INVALID_CREDENTIALS}
BY_STATUS |= {403: Code.INVALID_CREDENTIALS, 409: Code.IN_USE, 400: Code.INVALID_INPUT, 413: Code.INVALID_INPUT}
BY_STATUS |= {422: Code.INVALID_INPUT}
# rig has no code of its own for a server fault: 1006/1007/1008 each cover "some server side error".
SERVER_FAULT = {"POST": Code.CREATE_FAILED, "GET": Code.FETCH_FAILED, "HEAD": Code.FETCH_FAILED}


class RigError(MediaplaneError):
    """An error answered in rig's envelope; `details` is rig's per-field map or None."""

    def __init__(self, code: Code, message: str | None = None, details: Any = None) -> None:
        default, status = DEFAULTS[code]
        super().__init__(message or default, status_code=status, code=str(int(code)))
        self.error_code = code
        self.details = details


def body(code: Code, message: str, details: Any = None) -> dict[str, Any]:
    return {"message": message, "errorCode": int(code), "details": details}


def code_for(status: int, method: str = "GET") -> Code:
    if status in BY_STATUS:
        return BY_STATUS[status]
    if status >= 500:
        return SERVER_FAULT.get(method, Code.UPDATE_FAILED)
    return Code.INVALID_INPUT


def error_body(status: int, message: str) -> dict[str, Any]:
    """For the platform's answers about the instance itself (no such instance)."""
    return body(code_for(status), message)


def render(error: RigError) -> JSONResponse:
    return JSONResponse(body(error.error_code, error.message, error.details), status_code=error.status_code)


async def handle_rig_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RigError)
    return render(exc)


def respond(request: Request, reply: ErrorReply) -> Response:
    """Every other error of the rig API (unknown path, wrong method, unexpected faults) in rig's envelope."""
    code = code_for(reply.status_code, request.method)
    message = reply.message
    if code in (Code.NOT_FOUND, Code.METHOD_NOT_ALLOWED) or reply.field_errors is not None:
        message = DEFAULTS[code][0]
    headers = {k: v for k, v in (reply.headers or {}).items() if k.lower() != "content-type"}
    return JSONResponse(body(code, message), status_code=reply.status_code, headers=headers)
