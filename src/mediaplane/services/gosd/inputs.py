"""Request bodies as gosd's clients send them: JSON, or forms (multipart, as `curl -F`, or URL-encoded).

Every problem is a 400 `{"error_message": "<field>: <what>"}` (415 for a body of another type), never a 500.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.exceptions import HTTPException

from mediaplane.services.gosd.errors import GosdError, bad_request

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
MAX_TEXT = 4096
MAX_MAP_ENTRIES = 256


@dataclass
class Body:
    """The fields of a body (JSON values, or the text of form fields) and, for multipart, its file parts."""

    fields: dict[str, Any] = field(default_factory=dict)
    files: list[tuple[str, UploadFile]] = field(default_factory=list)
    is_form: bool = False


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";", 1)[0].strip().lower()


def _json_fields(raw: bytes) -> dict[str, Any]:
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):
        raise bad_request("The body is not valid JSON") from None
    if not isinstance(value, dict):
        raise bad_request("The body must be a JSON object")
    return value


def _form_body(form: FormData) -> Body:
    body = Body(is_form=True)
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            body.files.append((name, value))
        else:
            body.fields[name] = value
    return body


@asynccontextmanager
async def request_body(request: Request) -> AsyncIterator[Body]:
    """The body, whatever gosd accepts; the form's spooled files are closed afterwards."""
    kind = media_type(request)
    if kind in FORM_TYPES:
        try:
            form = await request.form()
        except HTTPException as exc:  # a malformed multipart body, too many parts or fields
            raise bad_request(f"The form cannot be read: {exc.detail}") from None
        except (ValueError, UnicodeDecodeError, AssertionError) as exc:
            raise bad_request(f"The form cannot be read: {exc}") from None
        try:
            yield _form_body(form)
        finally:
            await form.close()
        return
    if kind in ("", "application/json", "text/json") or kind.endswith("+json"):
        raw = await request.body()
        yield Body(fields=_json_fields(raw) if raw.strip() else {})
        return
    raise GosdError(415, f"Unsupported Content-Type {kind}: send JSON, multipart/form-data or a URL-encoded form")


def _clean(name: str, value: str, max_length: int) -> str:
    if "\x00" in value:
        raise bad_request(f"{name}: must not contain NUL characters")
    if len(value) > max_length:
        raise bad_request(f"{name}: longer than {max_length} characters")
    return value


def text(body: Body, name: str, *, required: bool = False, default: str = "", max_length: int = MAX_TEXT) -> str:
    value = body.fields.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"{name}: required")
        return default
    if not isinstance(value, str):
        raise bad_request(f"{name}: must be a string")
    return _clean(name, value, max_length)


def as_id(name: str, value: Any) -> int:
    """An id given as a JSON number or as digits (forms carry text)."""
    if isinstance(value, bool):
        raise bad_request(f"{name}: must be an id (a positive integer)")
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 1 or value > 2**63 - 1:
        raise bad_request(f"{name}: must be an id (a positive integer)")
    return value


def integer_id(body: Body, name: str) -> int:
    value = body.fields.get(name)
    if value is None or value == "":
        raise bad_request(f"{name}: required")
    return as_id(name, value)


def string_map(name: str, value: Any, *, ids: bool = False) -> dict[str, str]:
    """A `map[string]string`: null is empty; JSON text (from a form field) is read as JSON. With `ids`,
    the values are blob ids, given as strings (or numbers) and answered as strings."""
    if value is None or value == "":
        return {}
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except (ValueError, RecursionError):
            raise bad_request(f"{name}: must be an object of strings") from None
        if value is None:
            return {}
    if not isinstance(value, dict):
        raise bad_request(f"{name}: must be an object of strings")
    if len(value) > MAX_MAP_ENTRIES:
        raise bad_request(f"{name}: more than {MAX_MAP_ENTRIES} entries")
    result: dict[str, str] = {}
    for key, item in value.items():
        label = f"{name}.{key}"
        if not key or len(key) > 255:
            raise bad_request(f"{name}: keys must be 1 to 255 characters")
        _clean(label, key, 255)
        if ids:
            result[key] = str(as_id(label, item))
        elif isinstance(item, str):
            result[key] = _clean(label, item, MAX_TEXT)
        else:
            raise bad_request(f"{label}: must be a string")
    return result


def bracketed(body: Body, name: str) -> dict[str, str]:
    """Form fields named `name[key]`, as `{key: value}`."""
    found = {}
    for key, value in body.fields.items():
        if key.startswith(f"{name}[") and key.endswith("]") and isinstance(value, str):
            found[key[len(name) + 1 : -1]] = value
    return found


def files_and_extra(body: Body, reserved: frozenset[str]) -> tuple[dict[str, str], dict[str, str]]:
    """`files` (blob ids) and `extra` (strings) of a body: JSON objects, or in a form also `files[key]` and
    `extra[key]` fields, and any other text field not in `reserved` as extra (as gosd's multipart path)."""
    files = string_map("files", body.fields.get("files"), ids=True)
    extra = string_map("extra", body.fields.get("extra"))
    if body.is_form:
        files |= string_map("files", bracketed(body, "files"), ids=True)
        extra |= string_map("extra", bracketed(body, "extra"))
        others = {
            k: v
            for k, v in body.fields.items()
            if k not in reserved and not k.startswith(("files[", "extra[")) and isinstance(v, str)
        }
        extra |= string_map("extra", others)
    return files, extra
