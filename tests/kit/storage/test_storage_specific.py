"""Behaviour that only one backend has: local symlinks and folders, S3 buckets, and the factory."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from uuid import uuid4

import pytest
from tests.fixtures.s3 import S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, make_s3_storage

from mediaplane.config import Settings
from mediaplane.kit.storage import (
    KeyConflict,
    LocalStorage,
    S3Storage,
    StorageError,
    StorageUnavailable,
    UnsafePath,
    create_storage,
)


class TestLocal:
    async def test_creates_its_root(self, tmp_path: Path) -> None:
        storage = LocalStorage(tmp_path / "a" / "b")
        assert storage.root == (tmp_path / "a" / "b").resolve()
        assert storage.root.is_dir()

    async def test_symlink_out_of_root_is_refused(self, tmp_path: Path) -> None:
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "secret.txt").write_bytes(b"secret")
        storage = LocalStorage(tmp_path / "root")
        os.symlink(outside, storage.root / "link")
        os.symlink(outside / "secret.txt", storage.root / "file-link")

        for key in ["link/secret.txt", "link/new.txt", "file-link"]:
            with pytest.raises(UnsafePath):
                await storage.stat(key)
            with pytest.raises(UnsafePath):
                await storage.put_bytes(key, b"overwritten")
        with pytest.raises(UnsafePath):
            await storage.list("link")
        with pytest.raises(UnsafePath):
            await storage.delete_prefix("link")
        with pytest.raises(UnsafePath):
            async for _ in storage.scoped("link").open("secret.txt"):
                pass
        assert await storage.list() == []  # symlinks are not objects
        assert (outside / "secret.txt").read_bytes() == b"secret"
        assert sorted(p.name for p in outside.iterdir()) == ["secret.txt"]

    async def test_object_and_folder_of_the_same_name(self, tmp_path: Path) -> None:
        storage = LocalStorage(tmp_path / "root")
        await storage.put_bytes("a", b"file")
        with pytest.raises(KeyConflict):
            await storage.put_bytes("a/b", b"below a file")
        await storage.put_bytes("c/d", b"in a folder")
        with pytest.raises(KeyConflict):
            await storage.put_bytes("c", b"over a folder")
        assert [i.key for i in await storage.list()] == ["a", "c/d"]
        assert await storage.stat("c") is None

    async def test_partial_writes_are_hidden_and_folders_pruned(self, tmp_path: Path) -> None:
        storage = LocalStorage(tmp_path / "root")
        await storage.put_bytes("x/y/z.bin", b"1")
        (storage.root / "x" / "y" / ".mp-0123456789abcdef.partial").write_bytes(b"in flight")
        assert [i.key for i in await storage.list()] == ["x/y/z.bin"]
        assert await storage.delete_prefix("x") == 1
        await storage.delete("x/y/other.bin")
        (storage.root / "x" / "y" / ".mp-0123456789abcdef.partial").unlink()
        await storage.put_bytes("p/q/r.bin", b"1")
        await storage.delete("p/q/r.bin")
        assert not (storage.root / "p").exists()


class TestS3:
    async def test_creates_the_bucket_on_first_use(self, s3_server: str) -> None:
        bucket = f"fresh-{uuid4().hex[:12]}"
        first = make_s3_storage(s3_server, bucket)
        second = make_s3_storage(s3_server, bucket)
        try:
            await first.put_bytes("k", b"v")
            assert await second.stat("k") is not None  # the bucket already exists: reused
        finally:
            await first.close()
            await second.close()

    async def test_missing_bucket_without_create(self, s3_server: str) -> None:
        storage = S3Storage(
            f"absent-{uuid4().hex[:12]}",
            endpoint_url=s3_server,
            access_key_id=S3_ACCESS_KEY_ID,
            secret_access_key=S3_SECRET_ACCESS_KEY,
            create_bucket=False,
        )
        try:
            with pytest.raises(StorageError):
                await storage.stat("k")
        finally:
            await storage.close()

    async def test_unreachable_server(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        storage = S3Storage(
            "any",
            endpoint_url=f"http://127.0.0.1:{port}",
            access_key_id=S3_ACCESS_KEY_ID,
            secret_access_key=S3_SECRET_ACCESS_KEY,
        )
        try:
            with pytest.raises(StorageUnavailable) as caught:
                await storage.stat("k")
            assert caught.value.status_code == 503
        finally:
            await storage.close()

    def test_part_size_minimum(self) -> None:
        with pytest.raises(ValueError):
            S3Storage("b", part_size=1024)


class TestCreateStorage:
    async def test_local(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path / "data")
        storage = create_storage(settings)
        assert isinstance(storage, LocalStorage)
        assert storage.root == (tmp_path / "data" / "storage").resolve()
        await storage.close()

    async def test_s3(self, s3_server: str) -> None:
        settings = Settings(
            storage="s3",
            s3_endpoint=s3_server,
            s3_bucket=f"settings-{uuid4().hex[:12]}",
            s3_access_key_id=S3_ACCESS_KEY_ID,
            s3_secret_access_key=S3_SECRET_ACCESS_KEY,
        )
        storage = create_storage(settings)
        try:
            assert isinstance(storage, S3Storage)
            await storage.put_bytes("k.txt", b"v")
            assert [i.key for i in await storage.list()] == ["k.txt"]
        finally:
            await storage.close()


def test_public_api() -> None:
    import mediaplane.kit.storage as storage

    assert sorted(storage.__all__) == [
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
    assert all(hasattr(storage, name) for name in storage.__all__)
