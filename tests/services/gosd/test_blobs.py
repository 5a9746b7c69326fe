"""Blobs: bytes in the platform storage under the instance's folder, downloads with name and checksum,
replacement, deletion that really deletes, the size limit."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import httpx
from sqlalchemy import select

from mediaplane.kit.storage import Storage
from mediaplane.services.gosd.models import GosdBlob
from tests.fixtures.factories import Factory
from tests.services.gosd.conftest import OPTIONS, Gosd, error_of, make_gosd

CONTENT = b"-- a plan's script\nprint('hello')\n"


async def stored(gosd: Gosd) -> list[str]:
    """Every object of the instance's gosd blobs in the platform storage."""
    storage: Storage = gosd.runtime.storage
    return [info.key for info in await storage.list("instances") if "/gosd/blobs/" in info.key]


class TestDownload:
    async def test_filename_checksum_and_content(self, gosd: Gosd) -> None:
        blob_id = await gosd.blob("lua", CONTENT, "flight plan ü.lua")
        r = await gosd.request("GET", f"/api/v2/blobs/{blob_id}")
        assert r.status_code == 200 and r.content == CONTENT
        digest = hashlib.sha256(CONTENT)
        assert r.headers["digest"] == "sha-256=" + base64.b64encode(digest.digest()).decode()
        assert r.headers["etag"] == f'"{digest.hexdigest()}"'
        assert r.headers["content-type"] == "application/octet-stream"
        assert r.headers["content-length"] == str(len(CONTENT))
        disposition = r.headers["content-disposition"]
        assert disposition.startswith("attachment;") and "filename*=UTF-8''flight%20plan%20%C3%BC.lua" in disposition
        async with gosd.runtime.db.session() as session:
            blob = (await session.execute(select(GosdBlob))).scalar_one()
        assert (blob.checksum, blob.size, blob.filename) == (digest.hexdigest(), len(CONTENT), "flight plan ü.lua")
        assert blob.storage_key.startswith(f"gosd/blobs/{blob_id}/")
        keys = await stored(gosd)
        assert keys == [f"instances/{blob.instance_id}/{blob.storage_key}"]

    async def test_if_none_match_and_range(self, gosd: Gosd) -> None:
        blob_id = await gosd.blob("lua", CONTENT)
        etag = (await gosd.request("GET", f"/api/v2/blobs/{blob_id}")).headers["etag"]
        assert (
            await gosd.request("GET", f"/api/v2/blobs/{blob_id}", headers={"If-None-Match": etag})
        ).status_code == 304
        r = await gosd.request("GET", f"/api/v2/blobs/{blob_id}", headers={"Range": "bytes=3-7"})
        assert r.status_code == 206 and r.content == CONTENT[3:8]

    async def test_unknown_blob(self, gosd: Gosd) -> None:
        assert error_of(await gosd.request("GET", "/api/v2/blobs/77")) == (404, "No blob 77")
        assert error_of(await gosd.request("GET", "/api/v2/blobs/x"))[0] == 400


class TestUpload:
    async def test_refusals(self, gosd: Gosd) -> None:
        cases: list[dict[str, Any]] = [
            {"json": {"c1": "x"}},
            {"data": {"c1": "not a file"}},
            {"files": {"c1": (None, "a text field, not a file")}},
            {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}},
            {"files": [("c", ("a", b"1")), ("c", ("b", b"2"))]},
        ]
        for kwargs in cases:
            status, _ = error_of(await gosd.request("POST", "/api/v2/blobs/", **kwargs))
            assert status in (400, 415), kwargs
        assert await stored(gosd) == []

    async def test_size_limit(self, factory: Factory, client: httpx.AsyncClient, runtime: Any) -> None:
        small = await make_gosd(factory, client, runtime, **OPTIONS, maxBlobMegabytes="1")
        small.token = await small.login()
        limit = 1024 * 1024
        ok = await small.ok("POST", "/api/v2/blobs/", files={"a": ("a.bin", b"x" * limit)})
        r = await small.request("POST", "/api/v2/blobs/", files={"b": ("b.bin", b"x" * (limit + 1))})
        assert error_of(r)[0] == 413 and "b.bin" in r.json()["error_message"]
        # Nothing of the refused upload stays, and a refused replacement leaves the blob as it was.
        r = await small.request("PUT", f"/api/v2/blobs/{ok['a']}", files={"c": ("c.bin", b"y" * (limit + 1))})
        assert error_of(r)[0] == 413
        content = (await small.request("GET", f"/api/v2/blobs/{ok['a']}")).content
        assert content == b"x" * limit
        assert len(await stored(small)) == 1
        async with runtime.db.session() as session:
            assert len((await session.execute(select(GosdBlob))).scalars().all()) == 1

    async def test_a_failed_part_leaves_no_blob(
        self, factory: Factory, client: httpx.AsyncClient, runtime: Any
    ) -> None:
        small = await make_gosd(factory, client, runtime, **OPTIONS, maxBlobMegabytes="1")
        small.token = await small.login()
        files = {"a": ("a.bin", b"fine"), "b": ("b.bin", b"x" * (1024 * 1024 + 1))}
        assert error_of(await small.request("POST", "/api/v2/blobs/", files=files))[0] == 413
        assert await stored(small) == []


class TestReplace:
    async def test_content_and_checksum_change_and_old_bytes_go(self, gosd: Gosd) -> None:
        blob_id = await gosd.blob("lua", CONTENT, "a.lua")
        before = await stored(gosd)
        answer = await gosd.ok("PATCH", f"/api/v2/blobs/{blob_id}", files={"x": ("b.lua", b"new")})
        assert answer == {"id": int(blob_id), "filename": "b.lua"}
        r = await gosd.request("GET", f"/api/v2/blobs/{blob_id}")
        assert r.content == b"new" and r.headers["etag"] == f'"{hashlib.sha256(b"new").hexdigest()}"'
        after = await stored(gosd)
        assert len(after) == 1 and after != before

    async def test_refusals(self, gosd: Gosd) -> None:
        blob_id = await gosd.blob()
        assert error_of(await gosd.request("PUT", "/api/v2/blobs/99", files={"c": ("a", b"1")}))[0] == 404
        assert error_of(await gosd.request("PUT", f"/api/v2/blobs/{blob_id}", data={"c": "text"}))[0] == 415
        r = await gosd.request("PUT", f"/api/v2/blobs/{blob_id}", files={"c": (None, "text")})
        assert error_of(r)[0] == 400


class TestDelete:
    async def test_removes_row_and_bytes(self, gosd: Gosd) -> None:
        blob_id = await gosd.blob()
        await gosd.ok("PUT", f"/api/v2/blobs/{blob_id}", files={"c": ("b", b"2")})
        assert len(await stored(gosd)) == 1
        await gosd.ok("DELETE", f"/api/v2/blobs/{blob_id}")
        assert await stored(gosd) == []
        async with gosd.runtime.db.session() as session:
            assert (await session.execute(select(GosdBlob))).scalars().all() == []
        assert error_of(await gosd.request("DELETE", f"/api/v2/blobs/{blob_id}"))[0] == 404

    async def test_refused_while_a_plan_uses_it(self, gosd: Gosd) -> None:
        node = await gosd.node()
        blob_id = await gosd.blob()
        body = {"name": "p", "node_id": node["id"], "files": {"lua": blob_id}}
        plan = await gosd.ok("POST", "/api/v2/plans/", 201, json=body)
        r = await gosd.request("DELETE", f"/api/v2/blobs/{blob_id}")
        assert error_of(r)[0] == 409 and f"plan {plan['id']} (files.lua)" in r.json()["error_message"]
        assert len(await stored(gosd)) == 1
        await gosd.ok("PUT", f"/api/v2/plans/{plan['id']}", json={**body, "files": {}})
        await gosd.ok("DELETE", f"/api/v2/blobs/{blob_id}")
