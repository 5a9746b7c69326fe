"""gosd's error format (miniflux's): `{"error_message": "..."}` with the HTTP status, for every error."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import JSONResponse

from mediaplane.kit.errors import MediaplaneError

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from mediaplane.core.errors import ErrorReply

UNAUTHORIZED = "Access Unauthorized"
NOT_FOUND = "Resource Not Found"
# The messages of a bare status (an unknown path, a wrong method) in gosd's wording.
DEFAULT_MESSAGES = {404: NOT_FOUND, 405: "Method Not Allowed", 401: UNAUTHORIZED}


class GosdError(MediaplaneError):
    """An error of the gosd API; `oauth_error` is RFC 6749's code for the token endpoint's errors."""

    def __init__(
        self, status_code: int, message: str, *, oauth_error: str | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message, status_code=status_code, code=oauth_error or str(status_code), headers=headers)
        self.oauth_error = oauth_error


def bad_request(message: str) -> GosdError:
    return GosdError(400, message)


def not_found(message: str = NOT_FOUND) -> GosdError:
    return GosdError(404, message)


def unauthorized(message: str = UNAUTHORIZED) -> GosdError:
    return GosdError(401, message, headers={"WWW-Authenticate": 'Bearer realm="gosd"'})


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error_message": message}


def render(error: GosdError) -> JSONResponse:
    body = error_body(error.status_code, error.message)
    if error.oauth_error is not None:
        body["error"] = error.oauth_error
    return JSONResponse(body, status_code=error.status_code, headers=error.headers)


async def handle_gosd_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, GosdError)
    return render(exc)


def respond(request: Request, reply: ErrorReply) -> Response:
    """Every other error (unknown path, wrong method, invalid input, unexpected faults) in gosd's format."""
    message = reply.message
    if reply.field_errors is None and message in ("Not Found", "Method Not Allowed", "Unauthorized"):
        message = DEFAULT_MESSAGES.get(reply.status_code, message)
    headers = {k: v for k, v in (reply.headers or {}).items() if k.lower() != "content-type"}
    return JSONResponse(error_body(reply.status_code, message), status_code=reply.status_code, headers=headers)
