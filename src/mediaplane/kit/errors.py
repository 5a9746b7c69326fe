"""The error base every part of mediaplane raises; each API renders it in its own spec's format."""

from __future__ import annotations

from typing import Any


class MediaplaneError(Exception):
    status_code: int = 500
    code: str = "internal_error"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        if code is not None:
            self.code = code
        self.headers = headers
        self.extra = extra or {}


class BadRequest(MediaplaneError):
    status_code = 400
    code = "bad_request"


class Unauthorized(MediaplaneError):
    status_code = 401
    code = "unauthorized"


class Forbidden(MediaplaneError):
    status_code = 403
    code = "forbidden"


class NotFound(MediaplaneError):
    status_code = 404
    code = "not_found"


class Conflict(MediaplaneError):
    status_code = 409
    code = "conflict"


class PayloadTooLarge(MediaplaneError):
    status_code = 413
    code = "payload_too_large"


class Unavailable(MediaplaneError):
    status_code = 503
    code = "unavailable"
