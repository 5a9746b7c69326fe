"""rig's routes; every answer is `{message, payload}` with 200, as rig sends it."""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse


def ok(message: str, payload: Any = None) -> JSONResponse:
    return JSONResponse({"message": message, "payload": payload})
