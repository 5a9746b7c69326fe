from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from mediaplane.kit.errors import MediaplaneError
from mediaplane.kit.storage import RangeNotSatisfiable, Storage, parse_range, range_response

BODY = bytes(range(256)) * 40  # 10240 bytes


def make_app(storage: Storage) -> Starlette:
    async def get_file(request: Request) -> Response:
        media_type = request.query_params.get("type")
        return await range_response(storage, request.path_params["key"], request.headers.get("range"), media_type)

    async def error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, MediaplaneError)
        return JSONResponse({"code": exc.code}, status_code=exc.status_code)

    return Starlette(routes=[Route("/files/{key:path}", get_file)], exception_handlers={MediaplaneError: error})


@pytest.fixture
async def client(storage: Storage) -> AsyncIterator[httpx.AsyncClient]:
    await storage.put_bytes("media/clip.mp4", BODY)
    await storage.put_bytes("media/empty.bin", b"")
    transport = httpx.ASGITransport(app=make_app(storage))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


class TestParseRange:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            (None, None),
            ("", None),
            ("bytes=0-0", (0, 0)),
            ("bytes=0-99", (0, 99)),
            ("bytes=100-", (100, 999)),
            ("bytes=-100", (900, 999)),
            ("bytes=-5000", (0, 999)),
            ("bytes=990-5000", (990, 999)),
            ("Bytes = 1 - 2", (1, 2)),
            ("items=0-1", None),
            ("bytes=0-1,5-6", None),
            ("bytes=5-2", None),
            ("bytes=-", None),
            ("bytes=a-b", None),
            ("bytes 0-1", None),
        ],
    )
    def test_selects(self, header: str | None, expected: tuple[int, int] | None) -> None:
        assert parse_range(header, 1000) == expected

    @pytest.mark.parametrize(
        ("header", "size"),
        [("bytes=1000-", 1000), ("bytes=1000-2000", 1000), ("bytes=-0", 1000), ("bytes=0-", 0), ("bytes=-1", 0)],
    )
    def test_unsatisfiable(self, header: str, size: int) -> None:
        with pytest.raises(RangeNotSatisfiable):
            parse_range(header, size)


class TestRangeResponse:
    async def test_full_body(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/files/media/clip.mp4")
        assert response.status_code == 200
        assert response.content == BODY
        assert response.headers["accept-ranges"] == "bytes"
        assert response.headers["content-length"] == str(len(BODY))
        assert response.headers["content-type"] == "video/mp4"
        assert response.headers["etag"].startswith('"')
        assert response.headers["last-modified"].endswith("GMT")
        assert "content-range" not in response.headers

    @pytest.mark.parametrize(
        ("header", "start", "end"),
        [
            ("bytes=0-9", 0, 9),
            ("bytes=5000-", 5000, 10239),
            ("bytes=-100", 10140, 10239),
            ("bytes=10000-99999", 10000, 10239),
            ("bytes=70000-70000", None, None),
        ],
    )
    async def test_partial(self, client: httpx.AsyncClient, header: str, start: int | None, end: int | None) -> None:
        response = await client.get("/files/media/clip.mp4", headers={"Range": header})
        if start is None or end is None:
            assert response.status_code == 416
            assert response.headers["content-range"] == f"bytes */{len(BODY)}"
            assert response.content == b""
            return
        assert response.status_code == 206
        assert response.headers["content-range"] == f"bytes {start}-{end}/{len(BODY)}"
        assert response.headers["content-length"] == str(end - start + 1)
        assert response.headers["accept-ranges"] == "bytes"
        assert response.content == BODY[start : end + 1]

    async def test_unsupported_range_gets_the_whole_body(self, client: httpx.AsyncClient) -> None:
        for header in ["bytes=0-1,4-5", "pages=1-2", "bytes=9-3"]:
            response = await client.get("/files/media/clip.mp4", headers={"Range": header})
            assert response.status_code == 200
            assert response.content == BODY

    async def test_empty_object(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/files/media/empty.bin")
        assert response.status_code == 200
        assert response.content == b""
        assert response.headers["content-length"] == "0"
        response = await client.get("/files/media/empty.bin", headers={"Range": "bytes=0-"})
        assert response.status_code == 416
        assert response.headers["content-range"] == "bytes */0"

    async def test_media_type_override(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/files/media/clip.mp4?type=application/x-custom")
        assert response.headers["content-type"] == "application/x-custom"

    async def test_missing_and_unsafe_keys_are_errors(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/files/media/none.mp4")
        assert (response.status_code, response.json()) == (404, {"code": "object_not_found"})
        response = await client.get("/files/media/%2e%2e/%2e%2e/etc/passwd")
        assert (response.status_code, response.json()) == (400, {"code": "unsafe_path"})

    async def test_streams(self, storage: Storage) -> None:
        await storage.put_bytes("big.bin", BODY * 100)
        response = await range_response(storage, "big.bin", "bytes=0-")
        assert isinstance(response, StreamingResponse)
        assert response.status_code == 206
