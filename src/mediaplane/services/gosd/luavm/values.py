"""Plain values between Lua and Python. Lua strings travel as bytes (the runtime has no encoding), so every
text is encoded and decoded here, and nothing but plain data crosses: no Python object reaches a script.

Lua -> Python: a table whose keys are exactly 1..n (n >= 1) is a list, any other table (the empty one too)
a dict with string keys; strings are UTF-8 text; nil is None. Python -> Lua: dict and list become tables,
None becomes nil (so JSON null reads as a missing key, as gopher-json decoded it)."""

from __future__ import annotations

import math
from typing import Any

from lupa import lua54  # type: ignore[import-untyped]

MAX_DEPTH = 100


class ValueProblem(ValueError):
    """A Lua value that has no plain-data form (a function, a table in itself, text that is not UTF-8)."""


def text(value: Any, what: str) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode()
        except UnicodeDecodeError:
            raise ValueProblem(f"{what} is not UTF-8 text") from None
    if isinstance(value, bool) or value is None:
        raise ValueProblem(f"{what} must be a string, not {_kind(value)}")
    if isinstance(value, int | float):
        return _number_text(value)
    raise ValueProblem(f"{what} must be a string, not {_kind(value)}")


def to_python(value: Any, what: str = "value", depth: int = 0) -> Any:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise ValueProblem(f"{what} holds {value}, which JSON cannot carry")
        return value
    if isinstance(value, bytes):
        return text(value, what)
    if lua54.lua_type(value) != "table":
        raise ValueProblem(f"{what} holds {_kind(value)}, which is not plain data")
    if depth >= MAX_DEPTH:
        raise ValueProblem(f"{what} is nested deeper than {MAX_DEPTH} tables (does a table contain itself?)")
    items = list(value.items())  # raw next(): no metamethod of the script runs here
    keys = {key for key, _ in items}
    if items and all(type(key) is int for key in keys) and keys == set(range(1, len(items) + 1)):
        by_key = dict(items)
        return [to_python(by_key[index], what, depth + 1) for index in range(1, len(items) + 1)]
    result: dict[str, Any] = {}
    for key, item in items:
        result[_key(key, what)] = to_python(item, what, depth + 1)
    return result


def to_lua(runtime: Any, value: Any, depth: int = 0) -> Any:
    if value is None or isinstance(value, bool | int | float | bytes):
        return value
    if isinstance(value, str):
        return value.encode()
    if depth >= MAX_DEPTH:
        raise ValueProblem(f"a value nested deeper than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        table = runtime.table()
        for key, item in value.items():
            table[to_lua(runtime, key if isinstance(key, str | int) else str(key))] = to_lua(runtime, item, depth + 1)
        return table
    if isinstance(value, list | tuple):
        table = runtime.table()
        for index, item in enumerate(value, 1):
            table[index] = to_lua(runtime, item, depth + 1)
        return table
    return str(value).encode()


def _key(key: Any, what: str) -> str:
    if isinstance(key, bytes):
        return text(key, f"a key in {what}")
    if isinstance(key, int | float) and not isinstance(key, bool):
        return _number_text(key)
    raise ValueProblem(f"{what} has a key that is {_kind(key)}; keys must be strings or numbers")


def _number_text(number: float) -> str:
    """As Lua's tostring: 3 -> "3", 2.5 -> "2.5", 3.0 -> "3.0"."""
    return str(number) if isinstance(number, int) or not number.is_integer() else f"{number:.1f}"


def _kind(value: Any) -> str:
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "a boolean"
    return {"function": "a function", "table": "a table", "thread": "a coroutine", "userdata": "a userdata"}.get(
        str(lua54.lua_type(value)), "a " + type(value).__name__
    )
