"""The storage interface every backend implements, and the scoped view that confines a caller to a folder."""

from __future__ import annotations

import builtins
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from mediaplane.kit.storage.keys import safe_key, safe_prefix

__all__ = ["DEFAULT_CHUNK_SIZE", "ObjectInfo", "ScopedStorage", "Storage"]

DEFAULT_CHUNK_SIZE = 256 * 1024


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What a backend knows about one stored object.

    ``etag`` is an opaque validator without quotes (S3's ETag, or mtime and size on the local
    backend). ``content_type`` is guessed from the key's extension when the object is written; a
    listing from S3 does not carry it and leaves it ``None``.
    """

    key: str
    size: int
    modified: datetime
    etag: str | None = None
    content_type: str | None = None


def check_range(start: int, end: int | None) -> None:
    if start < 0:
        raise ValueError(f"start must be >= 0, not {start}")
    if end is not None and end < start:
        raise ValueError(f"end ({end}) must be >= start ({start})")


class Storage(ABC):
    """Objects under "/"-separated keys, on a local folder or an S3-compatible bucket.

    Every method is a coroutine except :meth:`open` (an async generator) and :meth:`scoped`.
    Every key goes through :func:`~mediaplane.kit.storage.safe_key`, so ``"a//b"`` and ``"a/b"``
    name the same object and ``"../x"`` raises :class:`~mediaplane.kit.storage.UnsafePath`.
    A prefix (``list``, ``delete_prefix``, ``scoped``) names a folder: ``list("a")`` returns the
    objects under ``a/`` and never ``ab``; ``""`` means everything.

    Writes are atomic for readers: a reader sees the old object or the new one, never a part.
    """

    chunk_size: int = DEFAULT_CHUNK_SIZE

    @abstractmethod
    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        """Store ``data`` under ``key``, replacing what was there."""

    @abstractmethod
    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int | None = None) -> ObjectInfo:
        """Store the chunks under ``key``.

        Past ``max_bytes`` it raises :class:`~mediaplane.kit.storage.TooLarge` and stores nothing:
        an object already under ``key`` is left as it was. The same holds when ``chunks`` raises
        or the caller is cancelled before the last chunk was read.
        """

    @abstractmethod
    async def put_file(self, key: str, path: Path) -> ObjectInfo:
        """Store a copy of the local file ``path`` under ``key``."""

    @abstractmethod
    def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """Stream the object's bytes ``start`` to ``end`` inclusive (HTTP style); ``end=None`` is the end.

        An async generator: ``async for chunk in storage.open(key)``. A missing key raises
        :class:`~mediaplane.kit.storage.ObjectNotFound` on the first iteration. A range that starts
        past the end yields nothing; an ``end`` past the end is clamped.
        """

    @abstractmethod
    async def stat(self, key: str) -> ObjectInfo | None:
        """The object's info, or None when nothing is stored under ``key``."""

    async def exists(self, key: str) -> bool:
        return await self.stat(key) is not None

    @abstractmethod
    async def delete(self, key: str) -> None:
        """Remove the object; a missing key is not an error."""

    @abstractmethod
    async def delete_prefix(self, prefix: str) -> int:
        """Remove every object under the folder ``prefix``; returns how many were removed."""

    @abstractmethod
    async def list(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        """Every object under the folder ``prefix``, recursively, sorted by key."""

    @abstractmethod
    async def download_to(self, key: str, path: Path) -> None:
        """Copy the object to the local file ``path`` (written atomically, parent folders created)."""

    async def local_path(self, key: str) -> Path | None:
        """The object's own file when the backend keeps objects as local files, else None.

        Lets FFmpeg read a local object in place; read-only use: write through ``put_*``.
        """
        return None

    async def url_for(self, key: str, *, expires_in: int = 3600) -> str | None:
        """A time-limited URL that reads the object without credentials, where the backend has them."""
        return None

    def scoped(self, prefix: str) -> Storage:
        """A view where every key lives under the folder ``prefix`` and cannot leave it."""
        return ScopedStorage(self, prefix)

    async def close(self) -> None:
        """Release connections; the storage is unusable afterwards."""
        return None


class ScopedStorage(Storage):
    """A :class:`Storage` confined to one folder of another storage.

    Keys given to and returned by the view are relative to the folder. Since every key passes
    ``safe_key`` before it is joined to the folder, no key can name anything outside it. Closing a
    view does not close the storage behind it.
    """

    def __init__(self, parent: Storage, prefix: str) -> None:
        self.parent = parent
        self.prefix = safe_key(prefix)
        self.chunk_size = parent.chunk_size

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{safe_key(key)}"

    def _folder(self, prefix: str) -> str:
        inner = safe_prefix(prefix)
        return f"{self.prefix}/{inner}" if inner else self.prefix

    def _info(self, info: ObjectInfo) -> ObjectInfo:
        return replace(info, key=info.key[len(self.prefix) + 1 :])

    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        return self._info(await self.parent.put_bytes(self._key(key), data))

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int | None = None) -> ObjectInfo:
        return self._info(await self.parent.put_stream(self._key(key), chunks, max_bytes))

    async def put_file(self, key: str, path: Path) -> ObjectInfo:
        return self._info(await self.parent.put_file(self._key(key), path))

    def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        return self.parent.open(self._key(key), start, end)

    async def stat(self, key: str) -> ObjectInfo | None:
        info = await self.parent.stat(self._key(key))
        return None if info is None else self._info(info)

    async def delete(self, key: str) -> None:
        await self.parent.delete(self._key(key))

    async def delete_prefix(self, prefix: str) -> int:
        return await self.parent.delete_prefix(self._folder(prefix))

    async def list(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        return [self._info(info) for info in await self.parent.list(self._folder(prefix))]

    async def download_to(self, key: str, path: Path) -> None:
        await self.parent.download_to(self._key(key), path)

    async def local_path(self, key: str) -> Path | None:
        return await self.parent.local_path(self._key(key))

    async def url_for(self, key: str, *, expires_in: int = 3600) -> str | None:
        return await self.parent.url_for(self._key(key), expires_in=expires_in)

    def scoped(self, prefix: str) -> Storage:
        return ScopedStorage(self.parent, self._key(prefix))

    def __repr__(self) -> str:
        return f"ScopedStorage({self.parent!r}, {self.prefix!r})"
