"""Request bodies read rig's way: JSON objects, fields named as the spec names them, problems reported as
rig's validator does (`{"password": ["less than min"]}`).

Absent or empty required fields answer 1004; present but invalid ones (wrong type, too short or long) 1005.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from mediaplane.services.rig.errors import Code, RigError

ZERO = "zero value"
TOO_SHORT = "less than min"
TOO_LONG = "greater than max"
NOT_TEXT = "not a string"
NOT_BOOLEAN = "not a boolean"
BAD_CHARACTER = "invalid character"


@dataclass(frozen=True)
class Text:
    name: str
    min: int = 0
    max: int | None = None
    required: bool = True


@dataclass(frozen=True)
class Flag:
    name: str
    required: bool = True


Field = Text | Flag


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; an empty body is an empty object (its required fields are then missing)."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise RigError(Code.INVALID_INPUT) from None
    if not isinstance(value, dict):
        raise RigError(Code.INVALID_INPUT)
    return value


def _problem(field: Field, value: Any) -> tuple[str, bool] | None:
    """(message, missing) for a bad value, None for a good one."""
    if value is None or value == "":
        return (ZERO, True) if field.required else None
    if isinstance(field, Flag):
        return None if isinstance(value, bool) else (NOT_BOOLEAN, False)
    if not isinstance(value, str):
        return NOT_TEXT, False
    if "\x00" in value:  # no database stores it in text
        return BAD_CHARACTER, False
    if len(value) < field.min:
        return TOO_SHORT, False
    if field.max is not None and len(value) > field.max:
        return TOO_LONG, False
    return None


def read(body: dict[str, Any], *fields: Field) -> dict[str, Any]:
    """The named fields of `body` (absent optional ones left out), or RigError 1004/1005 with details."""
    details: dict[str, list[str]] = {}
    missing = False
    values: dict[str, Any] = {}
    for field in fields:
        value = body.get(field.name)
        problem = _problem(field, value)
        if problem is not None:
            details[field.name] = [problem[0]]
            missing = missing or problem[1]
        elif field.name in body and value is not None:
            values[field.name] = value
    if details:
        raise RigError(Code.MISSING_INPUT if missing else Code.INVALID_INPUT, details=details)
    return values
