"""The dashboard's forms: gosd's own validation (NodeService's and PlanService's messages) beside the field each
one names; the plan's Lua compiled (never run) first, so a syntax error shows with its line before anything is
stored; points and extra written one a line, as the CLI's repeated `--point` and `--extra` take them."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from lupa import lua54  # type: ignore[import-untyped]
from starlette.datastructures import FormData, UploadFile

from mediaplane.services.gosd.errors import GosdError
from mediaplane.services.gosd.runner import MAX_SCRIPT

FIELDS = ("name", "description", "node_id", "lua", "extra")
NODE_FIELDS = ("name", "type_name", "description", "points")
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


class LinesError(ValueError):
    """A line of a one-a-line field that cannot be read (the message names the line)."""


def lines_of(value: str) -> list[tuple[int, str]]:
    """(line number, text) of each non-blank line, numbered as `tidy` shows them again."""
    return list(enumerate(tidy(value).splitlines(), 1))


def tidy(value: str) -> str:
    """The lines without blank ones: what the field shows again, so "Line 2" is its second line."""
    return "\n".join(line.strip() for line in value.splitlines() if line.strip())


def read_points(value: str) -> list[dict[str, str]]:
    """`TYPE` or `TYPE:NAME` a line (`livestream_hls:front camera`), as `nodes create --point` takes them."""
    points = []
    for number, line in lines_of(value):
        kind, _, name = line.partition(":")
        if not kind.strip():
            raise LinesError(f"Line {number}: give TYPE or TYPE:NAME (e.g. livestream_hls:front camera)")
        points.append({"type": kind.strip(), "name": name.strip()})
    return points


def read_extra(value: str) -> dict[str, str]:
    """`KEY=VALUE` a line, as `--extra` takes them."""
    pairs = {}
    for number, line in lines_of(value):
        key, sep, text = line.partition("=")
        if not sep or not key.strip():
            raise LinesError(f"Line {number}: give KEY=VALUE")
        pairs[key.strip()] = text.strip()
    return pairs


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def refused(error: GosdError, state: FormState, fields: tuple[str, ...] = FIELDS) -> FormState:
    """gosd's message (`name: required`, `points[1].type: unknown …`, `No node 7`) beside the field it names,
    or above the form. A point's message names its line, as the form numbers them."""
    message = error.message
    head, sep, rest = message.partition(":")
    where = re.fullmatch(r"(\w+)(?:\[(\d+)\])?(?:\.\S+)?", head) if sep else None
    name = where.group(1) if where else ""
    if name in fields:
        line = f"Line {int(where.group(2)) + 1}: " if where and where.group(2) else ""
        state.errors[name] = line + _sentence(rest.strip())
    elif message.startswith("No node") and "node_id" in fields:
        state.errors["node_id"] = f"{message}: choose one of the fleet's nodes."
    else:
        state.message = message
    return state
