"""kit.railsparams: every parameter encoding eyeson's clients send, Rack's nesting rules, conflicts, limits and
the lenient readers."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import UploadFile

from mediaplane.kit.railsparams import (
    DEFAULT_LIMITS,
    ParamsError,
    ParamsLimits,
    ParamsTooLarge,
    as_bool,
    as_int,
    as_list,
    as_str,
    close_uploads,
    expand,
    parse_params,
    rails_params,
    split_key,
)

FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


async def describe(value: Any) -> Any:
    """JSON-able view of the parameters: files as their name, type and bytes."""
    if isinstance(value, UploadFile):
        content = await value.read()
        return {"file": value.filename, "type": value.content_type, "size": len(content), "head": content[:4].hex()}
    if isinstance(value, dict):
        return {key: await describe(item) for key, item in value.items()}
    if isinstance(value, list):
        return [await describe(item) for item in value]
    return value


def build_app(limits: ParamsLimits = DEFAULT_LIMITS) -> FastAPI:
    app = FastAPI()
    uploads: list[UploadFile] = []
    app.state.uploads = uploads

    @app.api_route("/params", methods=["GET", "POST", "PUT", "DELETE"])
    async def params(request: Request) -> JSONResponse:
        try:
            parsed = await parse_params(request, limits=limits)
        except ParamsError as exc:
            return JSONResponse({"error": exc.message, "code": exc.code}, status_code=exc.status_code)
        try:
            return JSONResponse(await describe(parsed))
        finally:
            await close_uploads(parsed)

    @app.post("/dependency")
    async def dependency(params: Annotated[dict[str, Any], Depends(rails_params)]) -> dict[str, Any]:
        uploads.extend(v for v in params.values() if isinstance(v, UploadFile))
        described: dict[str, Any] = await describe(params)
        return described

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(build_app()), base_url="http://test") as client:
        yield client


def small_limits(**overrides: int) -> ParamsLimits:
    values = {"max_depth": 4, "max_keys": 5, "max_body": 200, "max_multipart_body": 2000, "max_files": 1}
    values.update(overrides)
    return ParamsLimits(**values)


@pytest.fixture
async def limited() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(build_app(small_limits())), base_url="http://t") as c:
        yield c


async def ok(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text
    return response.json()


async def error(response: httpx.Response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    message: str = response.json()["error"]
    return message


class TestClientEncodings:
    """Upstream §1.6: what each eyeson client library sends."""

    async def test_node_json_nested(self, client: httpx.AsyncClient) -> None:
        body = {
            "id": "standup",
            "user": {"name": "Jane", "id": "jane@example.com"},
            "options": {"show_names": False, "exit_url": "https://x", "custom_fields": {"locale": "de"}},
            "playback": {"url": "https://v/x.mp4", "play_id": "p1", "loop_count": -1, "audio": True},
        }
        assert await ok(await client.post("/params", json=body)) == body

    async def test_go_form_urlencoded(self, client: httpx.AsyncClient) -> None:
        # Go's url.Values.Encode: keys sorted, brackets percent-encoded, repeated keys for slices.
        values = [
            ("audio_insert_position[x]", "10"),
            ("audio_insert_position[y]", "20"),
            ("playback[url]", "https://v/x.mp4"),
            ("user[name]", "Jane Doe"),
            ("users[]", "u1"),
            ("users[]", "u2"),
        ]
        body = urlencode(values)
        assert "%5B%5D" in body
        assert await ok(await client.post("/params", content=body, headers=FORM)) == {
            "audio_insert_position": {"x": "10", "y": "20"},
            "playback": {"url": "https://v/x.mp4"},
            "user": {"name": "Jane Doe"},
            "users": ["u1", "u2"],
        }

    async def test_go_get_params_in_query(self, client: httpx.AsyncClient) -> None:
        query = urlencode([("users[]", "a"), ("users[]", "b"), ("name", "x y")])
        assert await ok(await client.get(f"/params?{query}")) == {"users": ["a", "b"], "name": "x y"}

    async def test_ruby_rest_client_form(self, client: httpx.AsyncClient) -> None:
        body = "user[name]=Jane&user[id]=j1&options[show_names]=true&types=screen_capture,camera"
        params = await ok(await client.post("/params", content=body, headers=FORM))
        assert params == {
            "user": {"name": "Jane", "id": "j1"},
            "options": {"show_names": "true"},
            "types": "screen_capture,camera",
        }
        assert as_list(params["types"]) == ["screen_capture", "camera"]
        assert as_bool(params["options"]["show_names"]) is True

    async def test_php_http_build_query(self, client: httpx.AsyncClient) -> None:
        # http_build_query gives users%5B0%5D=..; eyeson-php rewrites %5B<n>%5D to %5B%5D; booleans as text
        body = "users%5B%5D=a&users%5B%5D=b&options%5Bshow_names%5D=false&options%5Bwidescreen%5D=true"
        params = await ok(await client.post("/params", content=body, headers=FORM))
        assert params == {"users": ["a", "b"], "options": {"show_names": "false", "widescreen": "true"}}
        assert as_bool(params["options"]["show_names"]) is False

    async def test_php_numbered_keys_without_the_rewrite(self, client: httpx.AsyncClient) -> None:
        body = "users%5B1%5D=b&users%5B0%5D=a"
        params = await ok(await client.post("/params", content=body, headers=FORM))
        assert params == {"users": {"1": "b", "0": "a"}}
        assert as_list(params["users"]) == ["a", "b"]

    async def test_eyeson_js_multipart(self, client: httpx.AsyncClient) -> None:
        data = {"custom_fields[locale]": "de", "users[]": ["u1", "u2"], "z-index": "1", "id": "layer1"}
        files = {"file": ("overlay.png", PNG, "image/png")}
        params = await ok(await client.post("/params", data=data, files=files))
        assert params == {
            "custom_fields": {"locale": "de"},
            "users": ["u1", "u2"],
            "z-index": "1",
            "id": "layer1",
            "file": {"file": "overlay.png", "type": "image/png", "size": len(PNG), "head": PNG[:4].hex()},
        }

    async def test_docs_json_with_bracket_keys_and_numbers_as_strings(self, client: httpx.AsyncClient) -> None:
        body = {"url": "https://v/x.mp4", "play_id": "p1", "loop_count": "-1", "user[name]": "x", "users[]": ["a"]}
        params = await ok(await client.post("/params", json=body))
        assert params == {
            "url": "https://v/x.mp4",
            "play_id": "p1",
            "loop_count": "-1",
            "user": {"name": "x"},
            "users": ["a"],
        }
        assert as_int(params["loop_count"]) == -1

    async def test_query_with_an_empty_body(self, client: httpx.AsyncClient) -> None:
        for headers in ({}, FORM, JSON, {"content-type": "multipart/form-data; boundary=x"}):
            response = await client.post("/params?user[name]=Jane&layout=auto", content=b"", headers=headers)
            assert await ok(response) == {"user": {"name": "Jane"}, "layout": "auto"}, headers

    async def test_no_parameters_at_all(self, client: httpx.AsyncClient) -> None:
        assert await ok(await client.get("/params")) == {}
        assert await ok(await client.delete("/params")) == {}


class TestNesting:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("a[b][c]=1", {"a": {"b": {"c": "1"}}}),
            ("a[]=1&a[]=2", {"a": ["1", "2"]}),
            ("a[][x]=1&a[][y]=2&a[][x]=3", {"a": [{"x": "1", "y": "2"}, {"x": "3"}]}),
            ("a[][x][y]=1&a[][x][z]=2&a[][x][y]=3", {"a": [{"x": {"y": "1", "z": "2"}}, {"x": {"y": "3"}}]}),
            ("a[][]=1&a[][]=2", {"a": [["1"], ["2"]]}),
            ("a[b=1", {"a[b": "1"}),
            ("a]=1&[a]=2&a[b]c=3", {"a]": "1", "[a]": "2", "a[b]c": "3"}),
            ("a[=1", {"a[": "1"}),
            ("a=1&a=2", {"a": "2"}),
            ("a=&b", {"a": "", "b": ""}),
            ("=x&a[]=", {"a": [""]}),
            ("a[b]=1&a[c]=2&a[b]=3", {"a": {"b": "3", "c": "2"}}),
            ("name=J%C3%B6rg+M&x=%26%3D", {"name": "Jörg M", "x": "&="}),
        ],
    )
    async def test_rack_shapes(self, client: httpx.AsyncClient, query: str, expected: dict[str, Any]) -> None:
        assert await ok(await client.get(f"/params?{query}")) == expected
        assert await ok(await client.post("/params", content=query, headers=FORM)) == expected

    async def test_json_bracket_keys_merge_with_nested_objects(self, client: httpx.AsyncClient) -> None:
        body = {"user": {"id": 1}, "user[name]": "x", "users[]": "one", "options[layout_map]": [[0, 0, 1, 1]]}
        assert await ok(await client.post("/params", json=body)) == {
            "user": {"id": 1, "name": "x"},
            "users": ["one"],
            "options": {"layout_map": [[0, 0, 1, 1]]},
        }

    async def test_nested_json_keys_are_kept(self, client: httpx.AsyncClient) -> None:
        body = {"options": {"custom_fields[x]": "kept", "n": None, "f": 1.5}}
        assert await ok(await client.post("/params", json=body)) == body

    async def test_json_content_types(self, client: httpx.AsyncClient) -> None:
        for content_type in ("application/json; charset=utf-8", "application/vnd.api+json", "text/json"):
            response = await client.post("/params", content=b'{"a": true}', headers={"content-type": content_type})
            assert await ok(response) == {"a": True}, content_type

    async def test_other_bodies_are_not_read(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/params?a=1", content=b'{"b": 2}', headers={"content-type": "text/plain"})
        assert await ok(response) == {"a": "1"}

    async def test_body_wins_over_query_deeply(self, client: httpx.AsyncClient) -> None:
        query = "user[name]=q&user[id]=1&layout=auto&a=1&list[]=q"
        body = "user[name]=b&a[b]=2&list[]=b"
        response = await client.post(f"/params?{query}", content=body, headers=FORM)
        assert await ok(response) == {
            "user": {"name": "b", "id": "1"},
            "layout": "auto",
            "a": {"b": "2"},
            "list": ["b"],
        }
        response = await client.post(f"/params?{query}", json={"user": {"avatar": "x"}, "a": 5})
        assert await ok(response) == {
            "user": {"name": "q", "id": "1", "avatar": "x"},
            "layout": "auto",
            "a": 5,
            "list": ["q"],
        }

    def test_split_key(self) -> None:
        assert split_key("a[b][]") == ["a", "b", ""]
        assert split_key("a") == ["a"]
        assert split_key("a[b") == ["a[b"]
        assert split_key("[]") == ["[]"]


class TestConflicts:
    @pytest.mark.parametrize(
        "query",
        ["a=1&a[b]=2", "a[b]=2&a=1", "a[]=1&a[b]=2", "a[b]=1&a[]=2", "a[]=1&a=2", "a[b]=1&a[b][c]=2"],
    )
    async def test_a_key_with_two_shapes(self, client: httpx.AsyncClient, query: str) -> None:
        assert "already" in await error(await client.post("/params", content=query, headers=FORM))
        assert "already" in await error(await client.get(f"/params?{query}"))

    async def test_json_plain_and_bracket_key(self, client: httpx.AsyncClient) -> None:
        assert "already" in await error(await client.post("/params", json={"user": "x", "user[name]": "y"}))

    async def test_multipart_conflict(self, client: httpx.AsyncClient) -> None:
        files = {"file": ("a.png", PNG, "image/png")}
        response = await client.post("/params", data={"a": "1", "a[b]": "2"}, files=files)
        assert "already" in await error(response)

    @pytest.mark.parametrize("body", [b"{not json", b"[1, 2]", b'"text"', b"null", b"\xff\xfe{"])
    async def test_json_that_is_not_an_object(self, client: httpx.AsyncClient, body: bytes) -> None:
        await error(await client.post("/params", content=body, headers=JSON))

    async def test_malformed_multipart(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/params", content=b"--x\r\nnonsense", headers={"content-type": "multipart/form-data"}
        )
        assert "multipart" in await error(response)

    def test_error_is_a_bad_request(self) -> None:
        assert ParamsError("x").status_code == 400
        assert ParamsTooLarge("x").status_code == 413
        assert issubclass(ParamsTooLarge, ParamsError)


class TestLimits:
    async def test_depth(self, limited: httpx.AsyncClient) -> None:
        assert await ok(await limited.get("/params?a[b][c][d]=1")) == {"a": {"b": {"c": {"d": "1"}}}}
        assert "deeper" in await error(await limited.get("/params?a[b][c][d][e]=1"))
        assert "deeper" in await error(await limited.get("/params?a[][][][]=1"))

    async def test_default_depth_is_sixteen(self, client: httpx.AsyncClient) -> None:
        assert DEFAULT_LIMITS.max_depth == 16
        await ok(await client.get("/params?a" + "[b]" * 15 + "=1"))
        await error(await client.get("/params?a" + "[b]" * 16 + "=1"))
        await error(await client.post("/params", content="a" + "[]" * 100_000 + "=1", headers=FORM))

    async def test_json_depth(self, limited: httpx.AsyncClient, client: httpx.AsyncClient) -> None:
        assert await ok(await limited.post("/params", json={"a": {"b": {"c": [1]}}})) == {"a": {"b": {"c": [1]}}}
        assert "deeper" in await error(await limited.post("/params", json={"a": {"b": {"c": {"d": [1]}}}}))
        assert "deeper" in await error(await limited.post("/params", json={"a[b][c]": {"d": [1]}}))
        deep = b'{"a":' + b"[" * 200_000 + b"]" * 200_000 + b"}"
        assert "deeper" in await error(await client.post("/params", content=deep, headers=JSON))

    async def test_keys(self, limited: httpx.AsyncClient) -> None:
        five = "&".join(f"k{i}=1" for i in range(5))
        six = five + "&k5=1"
        assert len(await ok(await limited.get(f"/params?{five}"))) == 5
        assert "too many" in await error(await limited.get(f"/params?{six}"))
        assert "too many" in await error(await limited.post("/params", content=six, headers=FORM))
        assert "too many" in await error(await limited.post(f"/params?{five}", content="x=1", headers=FORM))
        assert "too many" in await error(await limited.post("/params", json={"a": {str(i): i for i in range(5)}}))
        response = await limited.post("/params", data={f"k{i}": "1" for i in range(6)}, files={"f": ("f", b"1")})
        assert "many" in await error(response)

    async def test_body_size(self, limited: httpx.AsyncClient) -> None:
        assert await ok(await limited.post("/params", content="a=" + "x" * 150, headers=FORM)) == {"a": "x" * 150}
        assert "larger" in await error(await limited.post("/params", content="a=" + "x" * 300, headers=FORM), 413)
        assert "larger" in await error(await limited.post("/params", json={"a": "x" * 300}), 413)

        async def chunked() -> AsyncIterator[bytes]:  # no Content-Length: counted while read
            for _ in range(10):
                yield b'{"a":"' + b"x" * 30 + b'"}'

        response = await limited.post("/params", content=chunked(), headers=JSON)
        assert "larger" in await error(response, 413)

    async def test_multipart_size_and_files(self, limited: httpx.AsyncClient) -> None:
        small = {"file": ("a.png", PNG[:100], "image/png")}
        assert (await ok(await limited.post("/params", files=small)))["file"]["size"] == 100
        big = {"file": ("a.png", PNG * 2, "image/png")}
        assert "larger" in await error(await limited.post("/params", files=big), 413)
        two = [("a", ("a.png", b"1", "image/png")), ("b", ("b.png", b"2", "image/png"))]
        assert "files" in await error(await limited.post("/params", files=two))

    async def test_multipart_size_without_content_length(self, limited: httpx.AsyncClient) -> None:
        boundary = "b0undary"
        part = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()

        async def chunked() -> AsyncIterator[bytes]:
            yield part
            for _ in range(30):
                yield b"x" * 100

        headers = {"content-type": f"multipart/form-data; boundary={boundary}"}
        assert "larger" in await error(await limited.post("/params", content=chunked(), headers=headers), 413)


class TestUploads:
    async def test_dependency_closes_files_after_the_request(self) -> None:
        app = build_app()
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
            files = {"file": ("a.png", PNG, "image/png")}
            params = await ok(await client.post("/dependency", data={"user[name]": "x"}, files=files))
        assert params["user"] == {"name": "x"}
        assert params["file"]["size"] == len(PNG)
        (upload,) = app.state.uploads
        assert upload.file.closed

    async def test_close_uploads_finds_nested_files(self) -> None:
        import io

        uploads = [UploadFile(io.BytesIO(b"1"), filename="a"), UploadFile(io.BytesIO(b"2"), filename="b")]
        await close_uploads({"a": {"b": [uploads[0]]}, "c": uploads[1], "d": "text"})
        assert all(u.file.closed for u in uploads)


class TestExpand:
    def test_json_list_to_array_key_extends(self) -> None:
        assert expand([("a[]", ["1", "2"])], extend_lists=True) == {"a": ["1", "2"]}
        assert expand([("a[]", ["1", "2"])]) == {"a": [["1", "2"]]}

    def test_empty_keys_are_skipped(self) -> None:
        assert expand([("", "x"), ("a", "1")]) == {"a": "1"}


class TestAsBool:
    @pytest.mark.parametrize("value", [True, "true", "TRUE", " True ", "1", "on", "ON", "yes", "Yes", 1])
    def test_true(self, value: Any) -> None:
        assert as_bool(value) is True
        assert as_bool(value, False) is True

    @pytest.mark.parametrize("value", [False, "false", "False", "0", "off", "no", "NO", 0])
    def test_false(self, value: Any) -> None:
        assert as_bool(value) is False
        assert as_bool(value, True) is False

    def test_missing_gives_the_default(self) -> None:
        assert as_bool(None) is None
        assert as_bool(None, True) is True
        assert as_bool("", False) is False

    @pytest.mark.parametrize("value", ["maybe", "2", 2, -1, [], {}, 1.5])
    def test_other_values(self, value: Any) -> None:
        with pytest.raises(ParamsError, match="boolean"):
            as_bool(value, True)
        assert as_bool(value, True, strict=False) is True
        with pytest.raises(ParamsError, match="show_names must be a boolean"):
            as_bool(value, name="show_names")


class TestAsInt:
    @pytest.mark.parametrize(
        ("value", "expected"), [(5, 5), (-1, -1), ("-1", -1), (" 42 ", 42), ("+3", 3), (2.0, 2), ("2.0", 2)]
    )
    def test_integers(self, value: Any, expected: int) -> None:
        assert as_int(value) == expected

    def test_missing_gives_the_default(self) -> None:
        assert as_int(None) is None
        assert as_int("", 7) == 7

    @pytest.mark.parametrize("value", ["x", "1.5", 1.5, True, [], "1e3", "9" * 40])
    def test_other_values(self, value: Any) -> None:
        with pytest.raises(ParamsError, match="integer"):
            as_int(value, 0)
        assert as_int(value, 0, strict=False) == 0


class TestAsStr:
    def test_values(self) -> None:
        assert as_str("x") == "x"
        assert as_str("") == ""
        assert as_str(-1) == "-1"
        assert as_str(2.5) == "2.5"
        assert as_str(True) == "true"
        assert as_str(None) is None
        assert as_str(None, "d") == "d"

    @pytest.mark.parametrize("value", [{}, ["a"]])
    def test_containers(self, value: Any) -> None:
        with pytest.raises(ParamsError, match="text"):
            as_str(value, name="name")
        assert as_str(value, "d", strict=False) == "d"


class TestAsList:
    @pytest.mark.parametrize(
        ("value", "expected"),
        [
            (["a", "b"], ["a", "b"]),
            ("a,b", ["a", "b"]),
            ("a, b ,", ["a", "b"]),
            ("one", ["one"]),
            ({"1": "b", "0": "a", "10": "c", "2": "x"}, ["a", "b", "x", "c"]),
            (None, []),
            ("", []),
            (5, [5]),
            (("a",), ["a"]),
        ],
    )
    def test_values(self, value: Any, expected: list[Any]) -> None:
        assert as_list(value) == expected

    def test_a_hash_with_other_keys(self) -> None:
        with pytest.raises(ParamsError, match="users"):
            as_list({"a": 1}, name="users")

    def test_json_string_is_not_split_inside_lists(self) -> None:
        assert as_list(["a,b"]) == ["a,b"]
        assert json.loads(json.dumps(as_list({"0": {"x": 1}}))) == [{"x": 1}]
