"""The plan form: gosd's own validation (PlanService's messages) beside the field each one names, and the Lua
compiled (never run) first, so a syntax error shows with its line before anything is stored."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from lupa import lua54  # type: ignore[import-untyped]
from starlette.datastructures import FormData, UploadFile

from mediaplane.services.gosd.errors import GosdError
from mediaplane.services.gosd.runner import MAX_SCRIPT

FIELDS = ("name", "description", "node_id", "lua")
COMPILE_MEMORY = 16 * 1024 * 1024


@dataclass
class FormState:
    values: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    message: str | None = None  # about the form as a whole


def lua_error(source: bytes) -> str | None:
    """Lua's own message for a script that does not compile (e.g. `plan.lua:3: 'end' expected`), or None."""
    if len(source) > MAX_SCRIPT:
        return f"The script is larger than {MAX_SCRIPT} bytes."
    try:
        text = source.decode()
    except UnicodeDecodeError:
        return "The script is not UTF-8 text."
    runtime = lua54.LuaRuntime(register_eval=False, unpack_returned_tuples=True, max_memory=COMPILE_MEMORY)
    try:
        loaded = runtime.globals().load(text, "=plan.lua", "t")  # compiles only: nothing runs
    except lua54.LuaError as exc:
        return str(exc)
    if isinstance(loaded, tuple) and loaded[0] is None:
        return str(loaded[1])
    return None


async def script_of(form: FormData) -> tuple[bytes, str]:
    """The script from the file chosen (when one is) or the text area, and a filename for its blob."""
    upload = form.get("lua_file")
    if isinstance(upload, UploadFile) and upload.filename:
        return await upload.read(MAX_SCRIPT + 1), upload.filename
    typed = form.get("lua")
    return (typed if isinstance(typed, str) else "").replace("\r\n", "\n").encode(), "plan.lua"


def as_upload(data: bytes, filename: str) -> UploadFile:
    return UploadFile(file=io.BytesIO(data), size=len(data), filename=filename)


def refused(error: GosdError, state: FormState) -> FormState:
    """gosd's message (`name: required`, `No node 7`) beside the field it names, or above the form."""
    message = error.message
    head, sep, rest = message.partition(":")
    if sep and head in FIELDS:
        state.errors[head] = rest.strip().capitalize()
    elif message.startswith("No node"):
        state.errors["node_id"] = f"{message}: choose one of the fleet's nodes."
    else:
        state.message = message
    return state
