"""Object storage behind one async interface: a local folder (embedded) or an S3-compatible bucket.

    storage = create_storage(settings)
    files = storage.scoped("some/folder")         # a view that cannot leave some/folder/
    await files.put_stream("in/a.mp4", chunks, max_bytes=limit)
    async for chunk in files.open("in/a.mp4", 0, 1023): ...
    await storage.close()

Keys are checked by :func:`safe_key`; errors are :class:`StorageError` subclasses (see ``errors``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from mediaplane.kit.storage.base import ObjectInfo, ScopedStorage, Storage
from mediaplane.kit.storage.errors import (
    KeyConflict,
    ObjectNotFound,
    StorageError,
    StorageUnavailable,
    TooLarge,
    UnsafePath,
)
from mediaplane.kit.storage.http import RangeNotSatisfiable, parse_range, range_response
from mediaplane.kit.storage.keys import safe_key
from mediaplane.kit.storage.local import LocalStorage
from mediaplane.kit.storage.s3 import S3Storage

__all__ = [
    "KeyConflict",
    "LocalStorage",
    "ObjectInfo",
    "ObjectNotFound",
    "RangeNotSatisfiable",
    "S3Storage",
    "ScopedStorage",
    "Storage",
    "StorageError",
    "StorageSettings",
    "StorageUnavailable",
    "TooLarge",
    "UnsafePath",
    "create_storage",
    "parse_range",
    "range_response",
    "safe_key",
]


class StorageSettings(Protocol):
    """The settings :func:`create_storage` reads (``mediaplane.config.Settings`` has them)."""

    @property
    def storage(self) -> str: ...
    @property
    def storage_dir(self) -> Path: ...
    @property
    def s3_endpoint(self) -> str | None: ...
    @property
    def s3_bucket(self) -> str: ...
    @property
    def s3_region(self) -> str: ...
    @property
    def s3_access_key_id(self) -> str | None: ...
    @property
    def s3_secret_access_key(self) -> str | None: ...


def create_storage(settings: StorageSettings) -> Storage:
    """The configured backend. An S3 bucket is first contacted (and created if missing) on first use."""
    if settings.storage == "local":
        return LocalStorage(settings.storage_dir)
    if settings.storage == "s3":
        return S3Storage(
            settings.s3_bucket,
            endpoint_url=settings.s3_endpoint,
            region=settings.s3_region,
            access_key_id=settings.s3_access_key_id,
            secret_access_key=settings.s3_secret_access_key,
        )
    raise ValueError(f"unknown storage backend {settings.storage!r} (expected 'local' or 's3')")
