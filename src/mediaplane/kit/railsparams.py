"""Request parameters the way Rails (Rack) reads them: one nested dict from the query string and the body.

    params = await parse_params(request)           # query, then the body: form, multipart or JSON
    name = as_str(params.get("user", {}).get("name"))
    loop = as_int(params.get("loop_count"), 0)      # "-1", -1 and " -1 " all give -1
    users = as_list(params.get("users"))            # users[]=a&users[]=b, "a,b", ["a","b"], {"0":"a","1":"b"}
    audio = as_bool(params.get("audio"), False)     # True, "true", "1", "on", "yes" ...

Keys nest as Rack nests them: ``a[b][c]=1`` gives ``{"a": {"b": {"c": "1"}}}``, ``a[]=1&a[]=2`` gives
``{"a": ["1", "2"]}`` and ``a[][x]=1&a[][y]=2&a[][x]=3`` gives ``{"a": [{"x": "1", "y": "2"}, {"x": "3"}]}``.
Numbered keys (``a[0]=x``) stay a dict with string keys; :func:`as_list` orders them. A key whose brackets do
not pair up (``a[b``) is kept whole, as a literal key. Values stay strings (form), :class:`UploadFile`
(multipart files) or the JSON value (JSON bodies: numbers, booleans, nested objects and lists kept).

A JSON object body may also use bracket keys (``{"users[]": ["a"], "user[name]": "x"}``): its top-level keys
are expanded the same way; nested objects are kept as they are. The body's values win over the query's
(merged deeply). Inside one source, a key used both as a value and as a container (``a=1&a[b]=2``) is a
:class:`ParamsError`, and so are too many keys, too deep a nesting and too large a body
(:class:`ParamsTooLarge`, 413). Unknown keys are the caller's to ignore.

Multipart files are open :class:`UploadFile` objects: read them in the request and call
:func:`close_uploads` (or use :func:`rails_params` as a FastAPI dependency, which closes them afterwards).
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, overload

from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser
from starlette.requests import Request

from mediaplane.kit.errors import BadRequest

__all__ = [
    "DEFAULT_LIMITS",
    "ParamsError",
    "ParamsLimits",
    "ParamsTooLarge",
    "as_bool",
    "as_int",
    "as_list",
    "as_str",
    "close_uploads",
    "expand",
    "parse_params",
    "rails_params",
]

Params = dict[str, Any]


class ParamsError(BadRequest):
    """The request's parameters cannot be read: conflicting shapes, malformed JSON, a limit exceeded."""

    code = "invalid_params"


class ParamsTooLarge(ParamsError):
    """The body is larger than the limit."""

    status_code = 413
    code = "params_too_large"


@dataclass(frozen=True)
class ParamsLimits:
    """How much a request may carry. ``max_depth`` counts nested containers (``a[b][c]`` is 3)."""

    max_depth: int = 16
    max_keys: int = 1000
    max_body: int = 1024 * 1024  # form-urlencoded and JSON bodies
    max_multipart_body: int = 64 * 1024 * 1024  # multipart bodies, files included
    max_files: int = 32
    max_field_size: int = 1024 * 1024  # one non-file multipart field


DEFAULT_LIMITS = ParamsLimits()

_BRACKETED = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_TRUE = frozenset({"true", "1", "on", "yes"})
_FALSE = frozenset({"false", "0", "off", "no"})


# -- reading a request -------------------------------------------------------------------------


async def parse_params(request: Request, *, limits: ParamsLimits = DEFAULT_LIMITS) -> Params:
    """The query string merged with the body (form-urlencoded, multipart or JSON), nested as Rails nests them.

    Raises :class:`ParamsError` (400) or :class:`ParamsTooLarge` (413). Reads the body once, as a stream.
    """
    query_pairs = _parse_query(request.scope.get("query_string", b""), limits.max_keys)
    keys = len(query_pairs)
    params = expand(query_pairs, limits=limits)
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";", 1)[0].strip().lower()
    body: Params
    if media_type == "application/x-www-form-urlencoded":
        raw = await _read_body(request, limits.max_body)
        pairs = _parse_query(raw, limits.max_keys - keys)
        body = expand(pairs, limits=limits)
    elif media_type == "multipart/form-data":
        items = await _read_multipart(request, limits, limits.max_keys - keys)
        try:
            body = expand(items, limits=limits)
        except ParamsError:
            await close_uploads([value for _, value in items])
            raise
    elif "json" in media_type:
        raw = await _read_body(request, limits.max_body)
        body = _from_json(raw, limits, limits.max_keys - keys)
    else:  # no body, or one Rails would not read either
        body = {}
    _check_depth(body, limits.max_depth)
    return _merge(params, body)


async def rails_params(request: Request) -> AsyncIterator[Params]:
    """A FastAPI dependency: the parsed parameters, with multipart files closed after the request."""
    params = await parse_params(request)
    try:
        yield params
    finally:
        await close_uploads(params)


async def close_uploads(params: Any) -> None:
    """Close every :class:`UploadFile` in ``params`` (nested anywhere)."""
    for upload in _uploads(params):
        await upload.close()


def _uploads(value: Any) -> Iterable[UploadFile]:
    if isinstance(value, UploadFile):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _uploads(item)
    elif isinstance(value, list):
        for item in value:
            yield from _uploads(item)


def _parse_query(raw: bytes, max_keys: int) -> list[tuple[str, Any]]:
    text = raw.decode("utf-8", errors="replace")
    if not text:
        return []
    try:
        return urllib.parse.parse_qsl(
            text, keep_blank_values=True, max_num_fields=max(max_keys, 0), encoding="utf-8", errors="replace"
        )
    except ValueError:  # max_num_fields
        raise ParamsError("too many parameters") from None


async def _read_body(request: Request, max_size: int) -> bytes:
    _check_content_length(request, max_size)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_size:
            raise ParamsTooLarge(f"the body is larger than {max_size} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _check_content_length(request: Request, max_size: int) -> None:
    length = request.headers.get("content-length")
    if length is not None and length.strip().isdigit() and int(length) > max_size:
        raise ParamsTooLarge(f"the body is larger than {max_size} bytes")


async def _read_multipart(request: Request, limits: ParamsLimits, max_keys: int) -> list[tuple[str, Any]]:
    _check_content_length(request, limits.max_multipart_body)

    async def capped() -> AsyncGenerator[bytes, None]:
        size = 0
        async with aclosing(request.stream()) as stream:
            async for chunk in stream:
                size += len(chunk)
                if size > limits.max_multipart_body:  # the parser closes its files on any error
                    raise ParamsTooLarge(f"the body is larger than {limits.max_multipart_body} bytes")
                yield chunk

    try:
        async with aclosing(capped()) as stream:
            parser = MultiPartParser(
                request.headers,
                stream,
                max_files=limits.max_files,
                max_fields=max(max_keys, 0),
                max_part_size=limits.max_field_size,
            )
            form = await parser.parse()
    except MultiPartException as exc:
        raise ParamsError(f"malformed multipart body: {exc.message}") from None
    items = list(form.multi_items())
    if len(items) > max_keys:
        await form.close()
        raise ParamsError("too many parameters")
    return items


def _from_json(raw: bytes, limits: ParamsLimits, max_keys: int) -> Params:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except RecursionError:
        raise ParamsError(f"the JSON body is nested deeper than {limits.max_depth} levels") from None
    except ValueError as exc:  # JSONDecodeError and undecodable bytes
        raise ParamsError(f"the body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ParamsError(f"a JSON body is an object, not {_json_type(data)}")
    _check_depth(data, limits.max_depth)
    if _count_keys(data) > max_keys:
        raise ParamsError("too many parameters")
    return expand(data.items(), limits=limits, extend_lists=True)


def _json_type(value: Any) -> str:
    return "an array" if isinstance(value, list) else "null" if value is None else f"a {type(value).__name__}"


# -- nesting -----------------------------------------------------------------------------------


def expand(
    pairs: Iterable[tuple[str, Any]], *, limits: ParamsLimits = DEFAULT_LIMITS, extend_lists: bool = False
) -> Params:
    """Nest ``(key, value)`` pairs by their bracket keys, in order, as Rack does.

    With ``extend_lists`` (JSON bodies), a list given to an ``a[]`` key adds its items rather than itself.
    """
    params: Params = {}
    for name, value in pairs:
        if not name:
            continue
        segments = split_key(name)
        if len(segments) > limits.max_depth:
            raise ParamsError(f"{_short(name)} is nested deeper than {limits.max_depth} levels")
        _place(params, segments[0], segments[1:], value, name, extend_lists)
    return params


def split_key(name: str) -> list[str]:
    """``"a[b][]"`` → ``["a", "b", ""]``; a key whose brackets do not pair up is one literal segment."""
    match = _BRACKETED.fullmatch(name)
    if match is None:
        return [name]
    return [match.group(1), *_SEGMENT.findall(match.group(2))]


def _place(container: Params, key: str, rest: list[str], value: Any, name: str, extend: bool) -> None:
    if not rest:
        _assign(container, key, value, name)
        return
    head, tail = rest[0], rest[1:]
    if head == "":  # an array: a[], a[][x], a[][]
        items = container.setdefault(key, [])
        if not isinstance(items, list):
            raise _conflict(name, key, "an array", items)
        if not tail:
            if extend and isinstance(value, list):
                items.extend(value)
            else:
                items.append(value)
        elif tail[0] == "":  # a[][]...: each value starts a new element
            element: Params = {}
            _place(element, "", tail, value, name, extend)
            items.append(element[""])
        else:  # a[][x]...: fill the last hash until it already has this key, then start a new one
            last = items[-1] if items else None
            if isinstance(last, dict) and not _has_path(last, tail):
                _place(last, tail[0], tail[1:], value, name, extend)
            else:
                fresh: Params = {}
                _place(fresh, tail[0], tail[1:], value, name, extend)
                items.append(fresh)
        return
    nested = container.setdefault(key, {})
    if not isinstance(nested, dict):
        raise _conflict(name, key, "a hash", nested)
    _place(nested, head, tail, value, name, extend)


def _assign(container: Params, key: str, value: Any, name: str) -> None:
    existing = container.get(key)
    if isinstance(existing, dict) and isinstance(value, dict):
        container[key] = _merge(existing, value)
    elif isinstance(existing, (dict, list)) and not isinstance(value, type(existing)):
        raise ParamsError(f"{_short(name)} gives a value to {_short(key)!r}, which is already {_shape(existing)}")
    else:
        container[key] = value


def _has_path(hash_: Params, path: list[str]) -> bool:
    node: Any = hash_
    for part in path:
        if part == "" or not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def _conflict(name: str, key: str, wanted: str, existing: Any) -> ParamsError:
    return ParamsError(f"{_short(name)} uses {_short(key)!r} as {wanted}, but it is already {_shape(existing)}")


def _shape(value: Any) -> str:
    if isinstance(value, dict):
        return "a hash"
    if isinstance(value, list):
        return "an array"
    return "a value"


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _merge(base: Params, override: Params) -> Params:
    """``override`` over ``base``, recursively where both are hashes; neither is changed."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _check_depth(value: Any, max_depth: int) -> None:
    if _depth(value, max_depth + 1) > max_depth:
        raise ParamsError(f"the parameters are nested deeper than {max_depth} levels")


def _depth(value: Any, stop: int) -> int:
    """Containers nested in ``value`` (a scalar is 0), counting no further than ``stop``."""
    if stop <= 0 or not isinstance(value, (dict, list)):
        return 0
    children = value.values() if isinstance(value, dict) else value
    deepest = 0
    for child in children:
        deepest = max(deepest, _depth(child, stop - 1))
        if deepest >= stop - 1:
            break
    return 1 + deepest


def _count_keys(value: Any) -> int:
    count = 0
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            count += len(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


# -- typed values, leniently -------------------------------------------------------------------


def _invalid(value: Any, what: str, name: str | None) -> ParamsError:
    shown = _short(repr(value), 40)
    if name:
        return ParamsError(f"{name} must be {what}, not {shown}")
    return ParamsError(f"{shown} is not {what}")


@overload
def as_bool(value: Any, default: None = None, *, strict: bool = True, name: str | None = None) -> bool | None: ...
@overload
def as_bool(value: Any, default: bool, *, strict: bool = True, name: str | None = None) -> bool: ...
def as_bool(value: Any, default: bool | None = None, *, strict: bool = True, name: str | None = None) -> bool | None:
    """True/False, or "true"/"false", "1"/"0", "on"/"off", "yes"/"no" (any case), or 1/0.

    ``None`` and ``""`` (not given) give ``default``. Anything else raises :class:`ParamsError`, or gives
    ``default`` when ``strict=False``. ``name`` goes into the error message.
    """
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
    if strict:
        raise _invalid(value, "a boolean", name)
    return default


@overload
def as_int(value: Any, default: None = None, *, strict: bool = True, name: str | None = None) -> int | None: ...
@overload
def as_int(value: Any, default: int, *, strict: bool = True, name: str | None = None) -> int: ...
def as_int(value: Any, default: int | None = None, *, strict: bool = True, name: str | None = None) -> int | None:
    """An int from an int, a whole float (2.0) or a decimal string (" -1 ", "+3", "2.0").

    ``None`` and ``""`` give ``default``; anything else (booleans included) raises :class:`ParamsError`, or
    gives ``default`` when ``strict=False``.
    """
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        pass
    elif isinstance(value, int):
        return value
    elif isinstance(value, float):
        if value.is_integer():
            return int(value)
    elif isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[+-]?\d{1,18}", text):
            return int(text)
        if re.fullmatch(r"[+-]?\d{1,18}\.0*", text):
            return int(text.split(".", 1)[0])
    if strict:
        raise _invalid(value, "an integer", name)
    return default


@overload
def as_str(value: Any, default: None = None, *, strict: bool = True, name: str | None = None) -> str | None: ...
@overload
def as_str(value: Any, default: str, *, strict: bool = True, name: str | None = None) -> str: ...
def as_str(value: Any, default: str | None = None, *, strict: bool = True, name: str | None = None) -> str | None:
    """A string as given; numbers as text ("-1", "2.5"); booleans as "true"/"false"; ``None`` gives ``default``.

    Hashes, arrays and files raise :class:`ParamsError`, or give ``default`` when ``strict=False``.
    """
    if value is None:
        return default
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if strict:
        raise _invalid(value if not isinstance(value, UploadFile) else "a file", "text", name)
    return default


def as_list(value: Any, *, name: str | None = None) -> list[Any]:
    """A list from a list, a comma-separated string ("a, b" → ["a", "b"]), or a hash with numbered keys
    ({"1": "b", "0": "a"} → ["a", "b"], as ``a[0]=…&a[1]=…`` gives). ``None`` and ``""`` give ``[]``;
    any other single value is a one-item list. A hash with other keys raises :class:`ParamsError`.
    """
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return list(value)
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, dict):
        try:
            ordered = sorted(value.items(), key=lambda item: int(str(item[0]).strip()))
        except ValueError:
            raise _invalid(value, "a list (a hash only with numbered keys)", name) from None
        return [item for _, item in ordered]
    return [value]
