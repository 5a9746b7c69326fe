"""rig's error envelope and codes, each produced by a request; Content-Type rules; optional trailing slashes."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mediaplane.core.ingest import Publish
from mediaplane.services.rig.ingest import RigIngest
from tests.services.rig.conftest import PASSWORD, Rig, error_of


async def test_1000_unknown_paths_whatever_the_content_type(rig: Rig) -> None:
    for method, path, content_type in [
        ("GET", "/nothing", None),
        ("POST", "/nothing/here", None),
        ("POST", "/nothing/here", "text/plain"),
        ("GET", "/streams/a/b/c", None),
        ("DELETE", "/accounts/auth", None),
    ]:
        r = await rig.request(method, path, content_type=content_type)
        assert error_of(r) == (404, 1000), (method, path)
        assert r.json() == {"message": "Not found", "errorCode": 1000, "details": None}


async def test_1001_wrong_method_on_a_known_path(rig: Rig) -> None:
    token = await rig.signup()
    for method, path in [
        ("GET", "/accounts/"),
        ("PUT", "/streams/"),
        ("GET", "/accounts/auth/local"),
        ("DELETE", "/"),
        ("GET", f"/streams/{uuid.uuid4()}/changeKey"),
    ]:
        r = await rig.request(method, path, token=token)
        assert error_of(r) == (405, 1001), (method, path, r.text)
        assert r.json()["message"] == "Method not allowed"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded", "json"])
async def test_1002_writes_need_application_json(rig: Rig, content_type: str | None) -> None:
    body = b'{"username": "foobar", "password": "Hop0nTh4tM4ng0Tree", "email": "f@example.com"}'
    r = await rig.request("POST", "/accounts/", content=body, content_type=content_type)
    assert error_of(r) == (415, 1002)
    assert r.json()["message"] == "Content-Type should be application/json"
    # Checked before authentication, as rig's middleware order has it, and on body-less writes too.
    r = await rig.request("POST", "/streams/", content_type=content_type)
    assert error_of(r) == (415, 1002)


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8"]
)
async def test_json_media_type_with_parameters_is_accepted(rig: Rig, content_type: str) -> None:
    body = b'{"username": "foobar", "password": "Hop0nTh4tM4ng0Tree", "email": "f@example.com"}'
    r = await rig.request("POST", "/accounts/", content=body, content_type=content_type)
    assert r.status_code == 200, r.text
    assert r.json()["message"] == "User created"


async def test_reads_do_not_need_a_content_type(rig: Rig) -> None:
    token = await rig.signup()
    r = await rig.request("GET", "/streams/", token=token, headers={"Content-Type": "text/html"})
    assert r.status_code == 200 and r.json()["payload"] == []


async def test_1003_bad_authorization_headers(rig: Rig) -> None:
    token = await rig.signup()
    header_message = "Invalid Authorization header. Authorization header needs Bearer token"
    for value, message in [
        (None, header_message),
        ("", header_message),
        (token, header_message),
        (f"bearer {token}", header_message),
        (f"Token {token}", header_message),
        ("Bearer", header_message),
        ("Bearer not.a.token", "Invalid credentials"),
        (f"Bearer {token}x", "Invalid credentials"),
        (f"Bearer  {token}", "Invalid credentials"),
    ]:
        headers = {"Authorization": value} if value is not None else {}
        r = await rig.request("GET", "/streams/", headers=headers)
        assert error_of(r) == (401, 1003), value
        assert r.json() == {"message": message, "errorCode": 1003, "details": None}


async def test_1003_unknown_user_or_wrong_password(rig: Rig) -> None:
    await rig.signup()
    for body in [{"username": "foobar", "password": "wrong-password"}, {"username": "nobody", "password": PASSWORD}]:
        r = await rig.request("POST", "/accounts/auth/local", json=body)
        assert error_of(r) == (401, 1003)
        assert r.json()["message"] == "Invalid credentials"


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"username": "foobar", "email": "f@example.com"}, {"password": ["zero value"]}),
        ({"username": "", "password": PASSWORD, "email": "f@example.com"}, {"username": ["zero value"]}),
        ({"username": None, "password": PASSWORD, "email": "f@example.com"}, {"username": ["zero value"]}),
        ({}, {"username": ["zero value"], "password": ["zero value"], "email": ["zero value"]}),
        (
            {"username": "foobar", "password": "short", "email": ""},
            {"password": ["less than min"], "email": ["zero value"]},
        ),
    ],
)
async def test_1004_missing_required_input_names_the_field(rig: Rig, body: dict[str, object], details: object) -> None:
    r = await rig.request("POST", "/accounts/", json=body)
    assert error_of(r) == (400, 1004)
    assert r.json() == {"message": "Missing required input", "errorCode": 1004, "details": details}


async def test_1004_on_an_empty_body(rig: Rig) -> None:
    r = await rig.request("POST", "/accounts/auth/local", content=b"")
    assert error_of(r) == (400, 1004)
    assert r.json()["details"] == {"username": ["zero value"], "password": ["zero value"]}


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"username": "fo", "password": PASSWORD, "email": "f@example.com"}, {"username": ["less than min"]}),
        ({"username": "f" * 65, "password": PASSWORD, "email": "f@example.com"}, {"username": ["greater than max"]}),
        ({"username": "foobar", "password": "1234567", "email": "f@example.com"}, {"password": ["less than min"]}),
        ({"username": "foobar", "password": PASSWORD, "email": "e" * 65}, {"email": ["greater than max"]}),
        ({"username": 123, "password": PASSWORD, "email": "f@example.com"}, {"username": ["not a string"]}),
        ({"username": "foobar", "password": [PASSWORD], "email": "f@example.com"}, {"password": ["not a string"]}),
    ],
)
async def test_1005_invalid_input_names_the_field(rig: Rig, body: dict[str, object], details: object) -> None:
    r = await rig.request("POST", "/accounts/", json=body)
    assert error_of(r) == (400, 1005)
    assert r.json() == {"message": "Invalid input", "errorCode": 1005, "details": details}


@pytest.mark.parametrize("raw", [b"{", b"not json", b"[1, 2]", b'"text"', b"\xff\xfe", b"[" * 100000])
async def test_1005_bodies_that_are_not_a_json_object(rig: Rig, raw: bytes) -> None:
    r = await rig.request("POST", "/accounts/", content=raw)
    assert error_of(r) == (400, 1005)
    assert r.json() == {"message": "Invalid input", "errorCode": 1005, "details": None}


async def test_1005_short_password_at_login(rig: Rig) -> None:
    r = await rig.request("POST", "/accounts/auth/local", json={"username": "foobar", "password": "short"})
    assert error_of(r) == (400, 1005)
    assert r.json()["details"] == {"password": ["less than min"]}


async def test_1006_duplicate_username_or_email(rig: Rig) -> None:
    await rig.signup("foobar", email="foo@example.com")
    for body in [
        {"username": "foobar", "password": PASSWORD, "email": "other@example.com"},
        {"username": "other", "password": PASSWORD, "email": "foo@example.com"},
    ]:
        r = await rig.request("POST", "/accounts/", json=body)
        assert error_of(r) == (400, 1006)
        assert r.json() == {"message": "Cannot create user account.", "errorCode": 1006, "details": None}


async def test_1006_unknown_service(rig: Rig) -> None:
    token = await rig.signup()
    stream = await rig.new_stream(token)
    for service in ["Facebook", "youtube", "TWITCH"]:
        r = await rig.request(
            "POST", f"/streams/{stream['id']}/destination", token=token, json={"service": service, "streamKey": "k"}
        )
        assert error_of(r) == (400, 1006)
        assert r.json()["message"] == "Unable to add destination to stream"


async def test_1007_wrong_old_password(rig: Rig) -> None:
    token = await rig.signup()
    body = {"oldPassword": "not-the-password", "newPassword": "Ar3YouComingToTheTree"}
    r = await rig.request("POST", "/accounts/password", token=token, json=body)
    assert error_of(r) == (400, 1007)
    assert r.json()["message"] == "Cannot update user password"
    assert await rig.signup("second")  # nothing else changed: the old password still logs in
    login = {"username": "foobar", "password": PASSWORD}
    assert (await rig.ok("POST", "/accounts/auth/local", json=login))["username"] == "foobar"


@pytest.mark.parametrize(
    "stream_id", ["not-a-uuid", "5b0b1c3e-2c1f-4e8a-9d3b-7c6f0e1a2b3c", "00000000-0000-0000-0000-000000000000"]
)
async def test_1008_unknown_stream(rig: Rig, stream_id: str) -> None:
    token = await rig.signup()
    for method, path in [
        ("GET", f"/streams/{stream_id}"),
        ("POST", f"/streams/{stream_id}/changeKey"),
        ("POST", f"/streams/{stream_id}/destination"),
        ("DELETE", f"/streams/{stream_id}"),
    ]:
        kwargs: dict[str, Any] = (
            {"json": {"service": "YouTube", "streamKey": "k"}} if path.endswith("destination") else {}
        )
        r = await rig.request(method, path, token=token, **kwargs)
        assert error_of(r) == (400, 1008), (method, path)
        assert r.json()["message"] == "Unable to fetch resource"


async def test_1008_unknown_stream_key_at_the_agents_config(rig: Rig) -> None:
    r = await rig.request("GET", "/agents/config/nosuchkey")
    assert error_of(r) == (400, 1008)


async def test_1009_agents_config_while_live(rig: Rig) -> None:
    token = await rig.signup()
    stream = await rig.new_stream(token)
    await RigIngest().admit(rig.runtime, Publish(app="rig", key=stream["streamKey"]))
    r = await rig.request("GET", f"/agents/config/{stream['streamKey']}")
    assert error_of(r) == (409, 1009)
    assert r.json() == {"message": "Resource is already in use", "errorCode": 1009, "details": None}


async def test_trailing_slash_is_optional_everywhere(rig: Rig) -> None:
    body = {"username": "foobar", "password": PASSWORD, "email": "f@example.com"}
    assert (await rig.request("POST", "/accounts", json=body)).status_code == 200
    login = {"username": "foobar", "password": PASSWORD}
    token = (await rig.ok("POST", "/accounts/auth/local/", json=login))["token"]
    stream = await rig.ok("POST", "/streams", token=token)
    sid = stream["id"]
    for method, path in [
        ("GET", "/streams"),
        ("GET", "/streams/"),
        ("GET", f"/streams/{sid}/"),
        ("GET", f"/streams/{sid}//"),
        ("POST", f"/streams/{sid}/changeKey/"),
        ("GET", "/"),
        ("GET", ""),
    ]:
        r = await rig.request(method, path, token=token)
        assert r.status_code == 200, (method, path, r.status_code, r.text)
    r = await rig.request(
        "POST", f"/streams/{sid}/destination/", token=token, json={"service": "Twitch", "streamKey": "k"}
    )
    assert r.status_code == 200 and r.json()["payload"]["rtmpUrl"] == "rtmp://live.twitch.tv/app/k"


async def test_home_lists_the_routes(rig: Rig) -> None:
    r = await rig.request("GET", "/")
    assert r.status_code == 200
    body = r.json()
    assert body["message"] == "xplex-rig HTTP API v1"
    assert "POST /accounts/ - Create new user account" in body["payload"]
    assert "GET /agents/config/{streamKey} - Get destinations for a given stream key" in body["payload"]


async def test_an_unknown_instance_answers_in_rigs_envelope(rig: Rig) -> None:
    r = await rig.client.get("/rig/acme-nosuch/streams/")
    assert r.status_code in (401, 404)
    assert set(r.json()) == {"message", "errorCode", "details"}


async def test_nul_characters_are_invalid_input_on_every_backend(rig: Rig) -> None:
    body = {"username": "ab\u0000c", "password": PASSWORD, "email": "f@example.com"}
    r = await rig.request("POST", "/accounts/", json=body)
    assert error_of(r) == (400, 1005) and r.json()["details"] == {"username": ["invalid character"]}
    r = await rig.request("POST", "/accounts/auth/local", json={"username": "ab\u0000c", "password": PASSWORD})
    assert error_of(r) == (400, 1005)
    assert error_of(await rig.request("GET", "/agents/config/ab%00c")) == (400, 1008)
    token = await rig.signup()
    sid = (await rig.new_stream(token))["id"]
    body = {"service": "Custom", "rtmpUrl": "rtmp://host/app", "streamKey": "k\u0000"}
    assert error_of(await rig.request("POST", f"/streams/{sid}/destination", token=token, json=body)) == (400, 1005)


async def test_the_openapi_document_lists_the_routes(rig: Rig) -> None:
    r = await rig.request("GET", "/v3/api-docs")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert {"/accounts", "/streams", "/streams/{stream_id}/destination", "/agents/config/{stream_key}"} <= set(paths)
    assert "/streams/{stream_id}/destinations" not in paths  # the alias is not documented twice
