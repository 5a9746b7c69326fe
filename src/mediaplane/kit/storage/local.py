"""Objects as plain files under one root folder.

Blocking file work runs in threads (``asyncio.to_thread``). A write goes to a hidden temporary file
in the object's own folder, is flushed to disk, then ``os.replace``-d over the final name, so a
reader sees the old file or the new one. Every path is resolved (symlinks included) and refused
unless it stays inside the root.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import mimetypes
import os
import re
import secrets
import shutil
import stat
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from mediaplane.kit.storage.base import ObjectInfo, Storage, check_range
from mediaplane.kit.storage.errors import KeyConflict, ObjectNotFound, TooLarge, UnsafePath
from mediaplane.kit.storage.keys import safe_key, safe_prefix

__all__ = ["LocalStorage"]

_PARTIAL = re.compile(r"^\.mp-[0-9a-f]{16}\.partial$")


def _partial_name() -> str:
    return f".mp-{secrets.token_hex(8)}.partial"


class LocalStorage(Storage):
    def __init__(self, root: Path | str, *, chunk_size: int | None = None) -> None:
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve()
        if chunk_size is not None:
            self.chunk_size = chunk_size

    def __repr__(self) -> str:
        return f"LocalStorage({str(self.root)!r})"

    # -- paths -----------------------------------------------------------------------------

    def _path(self, key: str) -> Path:
        """The file for a normalised key (or folder for a prefix); refuses anything resolving outside root."""
        path = self.root.joinpath(*key.split("/")) if key else self.root
        real = Path(os.path.realpath(path))
        if not real.is_relative_to(self.root):
            raise UnsafePath(f"{key!r} resolves outside the storage root")
        return path

    def _key_of(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _info(self, key: str, st: os.stat_result) -> ObjectInfo:
        return ObjectInfo(
            key=key,
            size=st.st_size,
            modified=datetime.fromtimestamp(st.st_mtime, UTC),
            etag=f"{st.st_mtime_ns:x}-{st.st_size:x}",
            content_type=mimetypes.guess_type(key)[0],
        )

    def _prune(self, folder: Path) -> None:
        """Remove empty folders from ``folder`` up to (not including) the root."""
        while folder != self.root and folder.is_relative_to(self.root):
            try:
                folder.rmdir()
            except OSError:
                return
            folder = folder.parent

    # -- atomic writes ---------------------------------------------------------------------

    def _create_partial(self, path: Path) -> tuple[Path, BinaryIO]:
        """A new hidden temporary file beside ``path``. Retries if a concurrent delete prunes the folder."""
        for attempt in range(3):
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.parent / _partial_name()
                return partial, partial.open("xb")
            except FileNotFoundError:
                if attempt == 2:
                    raise
            except (FileExistsError, NotADirectoryError) as exc:
                raise KeyConflict(f"{self._key_of(path)!r} is inside an existing object") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _commit(self, key: str, path: Path, partial: Path, file: BinaryIO) -> ObjectInfo:
        try:
            file.flush()
            os.fsync(file.fileno())
            file.close()
            if path.is_dir():
                raise KeyConflict(f"{key!r} is a folder of other objects")
            os.replace(partial, path)
        except BaseException:
            self._discard(partial, file)
            raise
        return self._info(key, path.stat())

    def _discard(self, partial: Path, file: BinaryIO) -> None:
        file.close()
        partial.unlink(missing_ok=True)

    def _write_all(self, key: str, data: bytes) -> ObjectInfo:
        path = self._path(key)
        partial, file = self._create_partial(path)
        try:
            file.write(data)
        except BaseException:
            self._discard(partial, file)
            raise
        return self._commit(key, path, partial, file)

    def _copy_in(self, key: str, source: Path) -> ObjectInfo:
        path = self._path(key)
        with source.open("rb") as src:
            partial, file = self._create_partial(path)
            try:
                shutil.copyfileobj(src, file, self.chunk_size)
            except BaseException:
                self._discard(partial, file)
                raise
        return self._commit(key, path, partial, file)

    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        key = safe_key(key)
        return await asyncio.to_thread(self._write_all, key, bytes(data))

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int | None = None) -> ObjectInfo:
        key = safe_key(key)
        path = await asyncio.to_thread(self._path, key)
        partial, file = await asyncio.to_thread(self._create_partial, path)
        writing: asyncio.Future[int] | None = None

        async def write(data: bytes) -> None:
            nonlocal writing
            writing = asyncio.ensure_future(asyncio.to_thread(file.write, data))
            await asyncio.shield(writing)  # a cancelled task must not leave a thread writing

        try:
            total = 0
            buffer = bytearray()
            async for chunk in chunks:
                total += len(chunk)
                if max_bytes is not None and total > max_bytes:
                    raise TooLarge(max_bytes)
                buffer += chunk
                if len(buffer) >= self.chunk_size:
                    await write(bytes(buffer))
                    buffer.clear()
            if buffer:
                await write(bytes(buffer))
        except BaseException:
            try:
                if writing is not None and not writing.done():
                    await asyncio.wait([writing])
            finally:
                self._discard(partial, file)  # synchronous: it runs even if cancelled again
            raise
        return await asyncio.to_thread(self._commit, key, path, partial, file)

    async def put_file(self, key: str, path: Path) -> ObjectInfo:
        key = safe_key(key)
        return await asyncio.to_thread(self._copy_in, key, Path(path))

    # -- reads -----------------------------------------------------------------------------

    def _open_read(self, key: str, start: int) -> BinaryIO:
        try:
            file = self._path(key).open("rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise ObjectNotFound(key) from exc
        try:
            if start:
                file.seek(start)
        except BaseException:
            file.close()
            raise
        return file

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        key = safe_key(key)
        check_range(start, end)
        file = await asyncio.to_thread(self._open_read, key, start)
        try:
            remaining = None if end is None else end - start + 1
            while remaining is None or remaining > 0:
                size = self.chunk_size if remaining is None else min(self.chunk_size, remaining)
                data = await asyncio.to_thread(file.read, size)
                if not data:
                    return
                if remaining is not None:
                    remaining -= len(data)
                yield data
        finally:
            file.close()

    def _stat(self, key: str) -> ObjectInfo | None:
        try:
            st = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return self._info(key, st) if stat.S_ISREG(st.st_mode) else None

    async def stat(self, key: str) -> ObjectInfo | None:
        key = safe_key(key)
        return await asyncio.to_thread(self._stat, key)

    def _walk(self, folder: Path) -> Iterator[os.DirEntry[str]]:
        """Regular files under ``folder`` (symlinks and partial writes skipped)."""
        try:
            entries = list(os.scandir(folder))
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                yield from self._walk(Path(entry.path))
            elif entry.is_file(follow_symlinks=False) and not _PARTIAL.match(entry.name):
                yield entry

    def _list(self, prefix: str) -> builtins.list[ObjectInfo]:
        infos = []
        for entry in self._walk(self._path(prefix)):
            try:
                st = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            infos.append(self._info(self._key_of(Path(entry.path)), st))
        return sorted(infos, key=lambda info: info.key)

    async def list(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        prefix = safe_prefix(prefix)
        return await asyncio.to_thread(self._list, prefix)

    def _download(self, key: str, target: Path) -> None:
        source = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.parent / _partial_name()
        try:
            shutil.copyfile(source, partial)
            os.replace(partial, target)
        except (FileNotFoundError, IsADirectoryError) as exc:
            partial.unlink(missing_ok=True)
            if not source.is_file():
                raise ObjectNotFound(key) from exc
            raise
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    async def download_to(self, key: str, path: Path) -> None:
        key = safe_key(key)
        await asyncio.to_thread(self._download, key, Path(path))

    def _local_path(self, key: str) -> Path | None:
        path = self._path(key)
        return path if path.is_file() else None

    async def local_path(self, key: str) -> Path | None:
        key = safe_key(key)
        return await asyncio.to_thread(self._local_path, key)

    # -- deletes ---------------------------------------------------------------------------

    def _delete(self, key: str) -> None:
        path = self._path(key)
        try:
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return
        self._prune(path.parent)

    async def delete(self, key: str) -> None:
        key = safe_key(key)
        await asyncio.to_thread(self._delete, key)

    def _delete_prefix(self, prefix: str) -> int:
        folder = self._path(prefix)
        count = 0
        for entry in self._walk(folder):
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
            count += 1
        # Remove the emptied folders, deepest first; a folder a writer is using stays.
        for dirpath, _dirnames, _filenames in os.walk(folder, topdown=False):
            directory = Path(dirpath)
            if directory != self.root:
                with contextlib.suppress(OSError):
                    directory.rmdir()
        if folder != self.root:
            self._prune(folder.parent)
        return count

    async def delete_prefix(self, prefix: str) -> int:
        prefix = safe_prefix(prefix)
        return await asyncio.to_thread(self._delete_prefix, prefix)
