"""One behaviour suite, run on both backends (see the ``storage`` fixture)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import httpx
import pytest
from tests.fixtures.s3 import S3_ACCESS_KEY_ID, S3_REGION, S3_SECRET_ACCESS_KEY

from mediaplane.kit.storage import (
    LocalStorage,
    ObjectNotFound,
    S3Storage,
    Storage,
    TooLarge,
    UnsafePath,
)

UNSAFE_KEYS = [
    "../escape",
    "a/../../escape",
    "a/..",
    "/etc/passwd",
    "a\\..\\b",
    "a\x00b",
    "a\nb",
    "",
    "/",
    "./.",
    "x" * 256,
]


async def collect(chunks: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in chunks])


async def feed(parts: Iterable[bytes]) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def leftovers(storage: Storage) -> list[str]:
    """Anything a failed write could have left: partial files, or unfinished multipart uploads."""
    if isinstance(storage, LocalStorage):
        return sorted(os.path.join(folder, name) for folder, _dirs, names in os.walk(storage.root) for name in names)
    assert isinstance(storage, S3Storage)
    client = boto3.session.Session().client(
        "s3",
        endpoint_url=storage.endpoint_url,
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY_ID,
        aws_secret_access_key=S3_SECRET_ACCESS_KEY,
    )
    try:
        uploads = client.list_multipart_uploads(Bucket=storage.bucket).get("Uploads", [])
        objects = client.list_objects_v2(Bucket=storage.bucket).get("Contents", [])
        return sorted([u["Key"] for u in uploads] + [o["Key"] for o in objects])
    finally:
        client.close()


class TestPutAndRead:
    async def test_put_bytes_then_stat_and_open(self, storage: Storage) -> None:
        before = datetime.now(UTC) - timedelta(seconds=5)
        info = await storage.put_bytes("videos/clip.mp4", b"hello world")
        assert info.key == "videos/clip.mp4"
        assert info.size == 11
        assert info.etag
        assert info.modified >= before
        assert info.content_type == "video/mp4"

        stat = await storage.stat("videos/clip.mp4")
        assert stat is not None
        assert (stat.size, stat.etag, stat.content_type) == (11, info.etag, "video/mp4")
        assert await collect(storage.open("videos/clip.mp4")) == b"hello world"
        assert await storage.exists("videos/clip.mp4")

    async def test_keys_are_normalised(self, storage: Storage) -> None:
        await storage.put_bytes("a//b/./c.txt", b"x")
        assert await storage.exists("a/b/c.txt")
        assert [info.key for info in await storage.list()] == ["a/b/c.txt"]

    async def test_put_replaces(self, storage: Storage) -> None:
        await storage.put_bytes("k.bin", b"first")
        await storage.put_bytes("k.bin", b"second!")
        assert await collect(storage.open("k.bin")) == b"second!"

    async def test_missing_object(self, storage: Storage) -> None:
        assert await storage.stat("nope.bin") is None
        assert not await storage.exists("nope.bin")
        with pytest.raises(ObjectNotFound):
            await collect(storage.open("nope.bin"))

    async def test_open_streams_in_chunks(self, storage: Storage) -> None:
        data = os.urandom(300 * 1024)
        await storage.put_bytes("big.bin", data)
        chunks = [chunk async for chunk in storage.open("big.bin")]
        assert len(chunks) > 1
        assert max(len(chunk) for chunk in chunks) <= storage.chunk_size
        assert b"".join(chunks) == data

    @pytest.mark.parametrize(
        ("start", "end", "expected"),
        [
            (0, 0, b"0"),
            (2, 5, b"2345"),
            (7, None, b"789"),
            (8, 100, b"89"),
            (10, None, b""),
            (50, 60, b""),
        ],
    )
    async def test_open_range(self, storage: Storage, start: int, end: int | None, expected: bytes) -> None:
        await storage.put_bytes("digits.txt", b"0123456789")
        assert await collect(storage.open("digits.txt", start, end)) == expected

    async def test_open_range_across_chunks(self, storage: Storage) -> None:
        data = os.urandom(200 * 1024)
        await storage.put_bytes("big.bin", data)
        start, end = 60_000, 150_000
        assert await collect(storage.open("big.bin", start, end)) == data[start : end + 1]

    @pytest.mark.parametrize(("start", "end"), [(-1, None), (5, 4)])
    async def test_open_bad_range(self, storage: Storage, start: int, end: int | None) -> None:
        await storage.put_bytes("digits.txt", b"0123456789")
        with pytest.raises(ValueError):
            await collect(storage.open("digits.txt", start, end))

    async def test_stopping_early_releases_the_object(self, storage: Storage) -> None:
        await storage.put_bytes("big.bin", os.urandom(300 * 1024))
        stream = storage.open("big.bin")
        assert await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]
        await storage.delete("big.bin")
        assert not await storage.exists("big.bin")


class TestPutStream:
    async def test_many_chunks(self, storage: Storage) -> None:
        parts = [os.urandom(10_000) for _ in range(50)]
        info = await storage.put_stream("s/data.bin", feed(parts), max_bytes=500_000)
        assert info.size == 500_000
        assert await collect(storage.open("s/data.bin")) == b"".join(parts)

    async def test_larger_than_one_part(self, storage: Storage) -> None:
        # 11 MiB: three parts of a multipart upload on S3.
        parts = [os.urandom(1024 * 1024) for _ in range(11)]
        info = await storage.put_stream("s/large.bin", feed(parts))
        assert info.size == 11 * 1024 * 1024
        stat = await storage.stat("s/large.bin")
        assert stat is not None and stat.size == info.size
        assert (
            await collect(storage.open("s/large.bin", 5 * 1024 * 1024 - 3, 5 * 1024 * 1024 + 2))
            == (b"".join(parts)[5 * 1024 * 1024 - 3 : 5 * 1024 * 1024 + 3])
        )

    async def test_empty_stream(self, storage: Storage) -> None:
        info = await storage.put_stream("s/empty.bin", feed([]))
        assert info.size == 0
        assert await collect(storage.open("s/empty.bin")) == b""

    async def test_over_max_bytes_stores_nothing(self, storage: Storage) -> None:
        with pytest.raises(TooLarge) as caught:
            await storage.put_stream("s/too-big.bin", feed([b"x" * 600, b"x" * 600]), max_bytes=1000)
        assert caught.value.status_code == 413
        assert not await storage.exists("s/too-big.bin")
        assert leftovers(storage) == []

    async def test_over_max_bytes_after_several_parts_stores_nothing(self, storage: Storage) -> None:
        parts = [os.urandom(1024 * 1024) for _ in range(12)]
        with pytest.raises(TooLarge):
            await storage.put_stream("s/too-big.bin", feed(parts), max_bytes=11 * 1024 * 1024)
        assert leftovers(storage) == []

    async def test_over_max_bytes_keeps_the_previous_object(self, storage: Storage) -> None:
        await storage.put_bytes("s/keep.bin", b"precious")
        with pytest.raises(TooLarge):
            await storage.put_stream("s/keep.bin", feed([b"y" * 2000]), max_bytes=1000)
        assert await collect(storage.open("s/keep.bin")) == b"precious"
        assert [info.key for info in await storage.list()] == ["s/keep.bin"]

    async def test_failing_source_stores_nothing(self, storage: Storage) -> None:
        async def broken() -> AsyncIterator[bytes]:
            yield b"partial data"
            raise ConnectionResetError("client went away")

        await storage.put_bytes("s/keep.bin", b"precious")
        with pytest.raises(ConnectionResetError):
            await storage.put_stream("s/keep.bin", broken())
        assert await collect(storage.open("s/keep.bin")) == b"precious"
        assert [info.key for info in await storage.list()] == ["s/keep.bin"]

    async def test_readers_see_old_or_new_never_a_part(self, storage: Storage) -> None:
        await storage.put_bytes("s/live.bin", b"old" * 1000)
        halfway = asyncio.Event()
        proceed = asyncio.Event()

        async def slow() -> AsyncIterator[bytes]:
            yield b"new" * 1000
            halfway.set()
            await proceed.wait()
            yield b"new" * 1000

        writer = asyncio.create_task(storage.put_stream("s/live.bin", slow()))
        await halfway.wait()
        assert await collect(storage.open("s/live.bin")) == b"old" * 1000
        proceed.set()
        await writer
        assert await collect(storage.open("s/live.bin")) == b"new" * 2000

    async def test_cancelled_writer_stores_nothing(self, storage: Storage) -> None:
        started = asyncio.Event()

        async def endless() -> AsyncIterator[bytes]:
            while True:
                yield b"z" * 65536
                started.set()
                await asyncio.sleep(0)

        writer = asyncio.create_task(storage.put_stream("s/cancelled.bin", endless()))
        await started.wait()
        await asyncio.sleep(0.05)
        writer.cancel()
        with pytest.raises(asyncio.CancelledError):
            await writer
        assert leftovers(storage) == []


class TestFiles:
    async def test_put_file_and_download_to(self, storage: Storage, tmp_path: Path) -> None:
        source = tmp_path / "in.webm"
        source.write_bytes(os.urandom(100_000))
        info = await storage.put_file("f/in.webm", source)
        assert info.size == 100_000
        assert info.content_type == "video/webm"

        target = tmp_path / "out" / "deep" / "copy.webm"
        await storage.download_to("f/in.webm", target)
        assert target.read_bytes() == source.read_bytes()

    async def test_download_missing(self, storage: Storage, tmp_path: Path) -> None:
        with pytest.raises(ObjectNotFound):
            await storage.download_to("f/none.bin", tmp_path / "none.bin")
        assert not (tmp_path / "none.bin").exists()

    async def test_local_path_and_url(self, storage: Storage) -> None:
        await storage.put_bytes("f/a.txt", b"content")
        path = await storage.local_path("f/a.txt")
        url = await storage.url_for("f/a.txt")
        if isinstance(storage, LocalStorage):
            assert path is not None and path.read_bytes() == b"content"
            assert await storage.local_path("f/missing.txt") is None
            assert url is None
        else:
            assert path is None
            assert url is not None
            async with httpx.AsyncClient() as client:
                response = await client.get(url)
            assert response.status_code == 200
            assert response.content == b"content"


class TestDeleteAndList:
    async def test_delete(self, storage: Storage) -> None:
        await storage.put_bytes("d/x.bin", b"1")
        await storage.delete("d/x.bin")
        assert not await storage.exists("d/x.bin")
        await storage.delete("d/x.bin")  # a second delete is not an error
        assert await storage.list() == []

    async def test_list_is_recursive_sorted_and_folder_based(self, storage: Storage) -> None:
        for key in ["a/2.bin", "a/1.bin", "a/sub/3.bin", "ab/4.bin", "a.bin"]:
            await storage.put_bytes(key, b"data")
        assert [info.key for info in await storage.list("a")] == ["a/1.bin", "a/2.bin", "a/sub/3.bin"]
        assert [info.key for info in await storage.list("a/")] == ["a/1.bin", "a/2.bin", "a/sub/3.bin"]
        assert [info.key for info in await storage.list("a/sub")] == ["a/sub/3.bin"]
        assert [info.key for info in await storage.list("missing")] == []
        everything = await storage.list()
        assert [info.key for info in everything] == ["a.bin", "a/1.bin", "a/2.bin", "a/sub/3.bin", "ab/4.bin"]
        assert all(info.size == 4 and info.etag for info in everything)

    async def test_delete_prefix(self, storage: Storage) -> None:
        for key in ["a/1.bin", "a/sub/2.bin", "ab/3.bin", "a.bin"]:
            await storage.put_bytes(key, b"data")
        assert await storage.delete_prefix("a") == 2
        assert [info.key for info in await storage.list()] == ["a.bin", "ab/3.bin"]
        assert await storage.delete_prefix("a") == 0
        assert await storage.delete_prefix("") == 2
        assert await storage.list() == []

    async def test_more_than_one_page(self, storage: Storage) -> None:
        # The S3 fixture lists and deletes 25 keys per request.
        for i in range(60):
            await storage.put_bytes(f"many/{i:04}.bin", b"")
        assert [i.key for i in await storage.list("many")] == [f"many/{i:04}.bin" for i in range(60)]
        assert await storage.delete_prefix("many") == 60
        assert await storage.list() == []


class TestUnsafeKeys:
    @pytest.mark.parametrize("key", UNSAFE_KEYS)
    async def test_refused_everywhere(self, storage: Storage, key: str, tmp_path: Path) -> None:
        with pytest.raises(UnsafePath):
            await storage.put_bytes(key, b"x")
        with pytest.raises(UnsafePath):
            await storage.put_stream(key, feed([b"x"]))
        with pytest.raises(UnsafePath):
            await collect(storage.open(key))
        with pytest.raises(UnsafePath):
            await storage.stat(key)
        with pytest.raises(UnsafePath):
            await storage.delete(key)
        with pytest.raises(UnsafePath):
            await storage.download_to(key, tmp_path / "out")
        with pytest.raises(UnsafePath):
            storage.scoped(key)
        if key:  # "" is the whole storage for list/delete_prefix
            with pytest.raises(UnsafePath):
                await storage.list(key)
            with pytest.raises(UnsafePath):
                await storage.delete_prefix(key)
        assert await storage.list() == []


class TestScoped:
    async def test_keys_live_under_the_prefix(self, storage: Storage) -> None:
        scope = storage.scoped("tenants/one")
        info = await scope.put_bytes("in/a.txt", b"A")
        assert info.key == "in/a.txt"
        assert await storage.exists("tenants/one/in/a.txt")
        stat = await scope.stat("in/a.txt")
        assert stat is not None and stat.key == "in/a.txt"
        assert [i.key for i in await scope.list()] == ["in/a.txt"]
        assert [i.key for i in await scope.list("in")] == ["in/a.txt"]
        assert await collect(scope.open("in/a.txt")) == b"A"

    async def test_cannot_escape_or_see_neighbours(self, storage: Storage) -> None:
        await storage.put_bytes("tenants/one0/secret.txt", b"neighbour")
        await storage.put_bytes("tenants/secret.txt", b"parent")
        scope = storage.scoped("tenants/one")
        for key in ["../one0/secret.txt", "../secret.txt", "/tenants/secret.txt", "..", "a/../../x"]:
            with pytest.raises(UnsafePath):
                await scope.stat(key)
            with pytest.raises(UnsafePath):
                await scope.put_bytes(key, b"overwrite")
        assert await scope.stat("secret.txt") is None
        assert await scope.list() == []
        assert await scope.delete_prefix("") == 0
        assert await collect(storage.open("tenants/one0/secret.txt")) == b"neighbour"
        assert await collect(storage.open("tenants/secret.txt")) == b"parent"

    async def test_delete_prefix_empties_only_the_scope(self, storage: Storage) -> None:
        one, two = storage.scoped("s/1"), storage.scoped("s/10")
        await one.put_bytes("a.bin", b"1")
        await one.put_bytes("b/c.bin", b"1")
        await two.put_bytes("a.bin", b"2")
        assert await one.delete_prefix("") == 2
        assert await one.list() == []
        assert [i.key for i in await storage.list()] == ["s/10/a.bin"]

    async def test_nested_scopes(self, storage: Storage, tmp_path: Path) -> None:
        inner = storage.scoped("outer").scoped("inner")
        await inner.put_stream("x.bin", feed([b"nested"]))
        assert await storage.exists("outer/inner/x.bin")
        await inner.download_to("x.bin", tmp_path / "x.bin")
        assert (tmp_path / "x.bin").read_bytes() == b"nested"
        assert (await inner.local_path("x.bin") is None) == isinstance(storage, S3Storage)
        assert (await inner.url_for("x.bin") is None) == isinstance(storage, LocalStorage)
        with pytest.raises(UnsafePath):
            inner.scoped("../sideways")
        await inner.delete("x.bin")
        assert await storage.list() == []

    async def test_closing_a_view_keeps_the_storage(self, storage: Storage) -> None:
        await storage.scoped("v").close()
        await storage.put_bytes("v/still.txt", b"ok")
        assert await storage.exists("v/still.txt")
