"""Serve a stored object over HTTP with byte ranges (RFC 9110 §14), streamed, never read whole."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.utils import format_datetime

from starlette.responses import Response, StreamingResponse

from mediaplane.kit.storage.base import Storage
from mediaplane.kit.storage.errors import ObjectNotFound

__all__ = ["RangeNotSatisfiable", "parse_range", "range_response"]

_RANGE = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


class RangeNotSatisfiable(Exception):
    """The Range header is well formed but selects no byte of the object (answered with 416)."""


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The inclusive ``(start, end)`` that a ``Range`` header selects from ``size`` bytes.

    Returns None when the whole object should be sent: no header, another unit, several ranges
    (allowed: a server may ignore Range) or a malformed or invalid spec such as ``bytes=5-2``.
    Raises :class:`RangeNotSatisfiable` for ``bytes=a-`` / ``bytes=a-b`` with ``a >= size``,
    ``bytes=-0``, and any range of an empty object.
    """
    if not header:
        return None
    match = _RANGE.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if first:
        start = int(first)
        if last and int(last) < start:
            return None
        if start >= size:
            raise RangeNotSatisfiable(header)
        return start, min(int(last), size - 1) if last else size - 1
    if not last:
        return None
    suffix = int(last)
    if suffix == 0 or size == 0:
        raise RangeNotSatisfiable(header)
    return max(0, size - suffix), size - 1


async def range_response(
    storage: Storage,
    key: str,
    range_header: str | None,
    media_type: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """A response for ``key``: 200 with the whole body, 206 with ``Content-Range``, or 416.

    Raises :class:`~mediaplane.kit.storage.ObjectNotFound` for a missing key so the caller's error
    handler renders it in its own format. ``media_type`` overrides the stored content type;
    ``headers`` are added to every answer (e.g. ``Cache-Control``).
    """
    info = await storage.stat(key)
    if info is None:
        raise ObjectNotFound(key)
    common = {
        **(headers or {}),
        "Accept-Ranges": "bytes",
        "Last-Modified": format_datetime(info.modified, usegmt=True),
    }
    if info.etag:
        common["ETag"] = f'"{info.etag}"'
    try:
        selected = parse_range(range_header, info.size)
    except RangeNotSatisfiable:
        return Response(status_code=416, headers={**common, "Content-Range": f"bytes */{info.size}"})
    content_type = media_type or info.content_type or "application/octet-stream"
    if selected is None:
        common["Content-Length"] = str(info.size)
        return StreamingResponse(storage.open(key), status_code=200, headers=common, media_type=content_type)
    start, end = selected
    common["Content-Length"] = str(end - start + 1)
    common["Content-Range"] = f"bytes {start}-{end}/{info.size}"
    return StreamingResponse(storage.open(key, start, end), status_code=206, headers=common, media_type=content_type)
