"""Object keys: "/"-separated relative paths that can never point outside the folder they are joined to.

Every key that reaches a backend has been through :func:`safe_key`. It works on the characters it is
given: it does not percent-decode. A caller that takes a key from a URL path gets it already decoded
by the ASGI server (so ``%2e%2e`` arrives as ``..`` and is refused here); a caller that decodes a
query string or form field by hand must do so *before* calling ``safe_key``, never after.
"""

from __future__ import annotations

from mediaplane.kit.storage.errors import UnsafePath

__all__ = ["MAX_KEY_BYTES", "MAX_SEGMENT_BYTES", "safe_key", "safe_prefix"]

MAX_KEY_BYTES = 1024
"""S3's limit on a key, in UTF-8 bytes."""
MAX_SEGMENT_BYTES = 255
"""The usual file system limit on one file name, in bytes."""


def safe_key(*parts: str) -> str:
    """Join user-given parts into one normalised key, or raise :class:`UnsafePath`.

    Each part may itself hold "/"-separated segments. Empty and "." segments are dropped, so
    ``safe_key("a/", "/b")`` is refused (absolute part) while ``safe_key("a//b/", "./c")`` is
    ``"a/b/c"``. Refused: ``..`` segments, parts starting with "/", backslashes, NUL and other
    control characters, segments over 255 bytes, keys over 1024 bytes, and a result with no segment.
    """
    segments: list[str] = []
    for part in parts:
        if not isinstance(part, str):
            raise UnsafePath(f"key parts must be strings, not {type(part).__name__}")
        if part.startswith("/"):
            raise UnsafePath(f"absolute path not allowed: {part!r}")
        if "\\" in part:
            raise UnsafePath(f"backslash not allowed in {part!r}")
        if any(ord(char) < 0x20 or ord(char) == 0x7F for char in part):
            raise UnsafePath(f"control character not allowed in {part!r}")
        try:
            part.encode()
        except UnicodeEncodeError as exc:
            raise UnsafePath(f"not valid text: {part!r}") from exc
        for segment in part.split("/"):
            if segment in ("", "."):
                continue
            if segment == "..":
                raise UnsafePath(f"parent reference not allowed in {part!r}")
            if len(segment.encode()) > MAX_SEGMENT_BYTES:
                raise UnsafePath(f"path segment longer than {MAX_SEGMENT_BYTES} bytes")
            segments.append(segment)
    if not segments:
        raise UnsafePath("empty key")
    key = "/".join(segments)
    if len(key.encode()) > MAX_KEY_BYTES:
        raise UnsafePath(f"key longer than {MAX_KEY_BYTES} bytes")
    return key


def safe_prefix(prefix: str) -> str:
    """A folder prefix for listing: "" (everything) or a normalised key."""
    return "" if prefix == "" else safe_key(prefix)
