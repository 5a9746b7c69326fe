"""The storage error tree; each one is a MediaplaneError with the HTTP status it maps to.

StorageError
├── UnsafePath          (400) a key that could leave its folder: "..", absolute, backslash, NUL …
├── ObjectNotFound      (404) read of a key that holds nothing
├── KeyConflict         (409) the local backend cannot hold both "a" and "a/b"
├── TooLarge            (413) put_stream went past max_bytes; nothing was stored
└── StorageUnavailable  (503) the object store cannot be reached
"""

from __future__ import annotations

from mediaplane.kit.errors import (
    BadRequest,
    Conflict,
    MediaplaneError,
    NotFound,
    PayloadTooLarge,
    Unavailable,
)

__all__ = ["KeyConflict", "ObjectNotFound", "StorageError", "StorageUnavailable", "TooLarge", "UnsafePath"]


class StorageError(MediaplaneError):
    code = "storage_error"


class UnsafePath(StorageError, BadRequest):
    code = "unsafe_path"


class ObjectNotFound(StorageError, NotFound):
    code = "object_not_found"

    def __init__(self, key: str) -> None:
        super().__init__(f"no object at {key!r}")
        self.key = key


class KeyConflict(StorageError, Conflict):
    code = "key_conflict"


class TooLarge(StorageError, PayloadTooLarge):
    code = "too_large"

    def __init__(self, max_bytes: int) -> None:
        super().__init__(f"the upload is larger than {max_bytes} bytes")
        self.max_bytes = max_bytes


class StorageUnavailable(StorageError, Unavailable):
    code = "storage_unavailable"
