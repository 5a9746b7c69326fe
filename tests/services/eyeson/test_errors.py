"""Errors in eyeson's format with the documented statuses: keys, feature toggles, lock, bad input (never 500),
the encodings every client sends, and the platform token playing no part."""

from __future__ import annotations

import pytest

from tests.services.eyeson.conftest import Eyeson, error_of

KEY_ROUTES = [("POST", "/rooms"), ("GET", "/rooms"), ("GET", "/rooms/x/users"), ("GET", "/webhooks")]


@pytest.mark.parametrize(("method", "path"), KEY_ROUTES)
async def test_key_routes_refuse_a_missing_or_wrong_key(eyeson: Eyeson, method: str, path: str) -> None:
    assert error_of(await eyeson.request(method, path, data={"user[name]": "x"}))[0] == 401
    assert error_of(await eyeson.request(method, path, key="Bearer nope", data={"user[name]": "x"}))[0] == 401


async def test_the_platform_token_is_not_the_api_key(eyeson: Eyeson) -> None:
    r = await eyeson.request("POST", "/rooms", headers={"x-jwt": f"Bearer {eyeson.sat}"}, data={"user[name]": "x"})
    assert error_of(r)[0] == 401
    assert (await eyeson.request("POST", "/rooms", key=f"Bearer {eyeson.key}", data={"user[name]": "x"})).is_success


async def test_unknown_access_keys_are_404(eyeson: Eyeson) -> None:
    for method, path in (
        ("GET", "/rooms/nosuchaccesskey000000000"),
        ("POST", "/rooms/nosuchaccesskey000000000/messages"),
        ("POST", "/rooms/nosuchaccesskey000000000/layout"),
        ("POST", "/rooms/nosuchaccesskey000000000/webrtc"),
        ("DELETE", "/rooms/nosuchaccesskey000000000"),
        ("GET", "/rooms/" + "k" * 300),
    ):
        assert error_of(await eyeson.request(method, path, data={"type": "chat", "content": "x"}))[0] == 404


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"user[name]": ""},
        {"user": "Jane"},
        {"user[name]": "x" * 300},
        {"user[name]": "Jane", "options[sfu_mode]": "mesh"},
        {"user[name]": "Jane", "options[show_names]": "maybe"},
        {"user[name]": "Jane", "user[name][first]": "J"},
    ],
)
async def test_bad_room_requests_are_400(eyeson: Eyeson, data: dict[str, str]) -> None:
    assert error_of(await eyeson.request("POST", "/rooms", key=eyeson.key, data=data))[0] == 400


async def test_every_client_encoding_creates_a_room(eyeson: Eyeson) -> None:
    as_json = await eyeson.ok(
        "POST",
        "/rooms",
        201,
        key=eyeson.key,
        json={"id": "j", "user": {"name": "Node"}, "options": {"show_names": False}},
    )
    assert as_json["options"]["show_names"] is False
    bracket_json = await eyeson.ok("POST", "/rooms", 201, key=eyeson.key, json={"user[name]": "Docs", "id": "j"})
    assert bracket_json["room"]["guest_token"] == as_json["room"]["guest_token"]
    multipart = await eyeson.ok("POST", "/rooms", 201, key=eyeson.key, files={"user[name]": (None, "Browser")})
    assert multipart["user"]["name"] == "Browser"
    in_query = await eyeson.ok("POST", "/rooms?user%5Bname%5D=Query&id=q", 201, key=eyeson.key)
    assert in_query["room"]["id"] == "q"


async def test_feature_toggles(eyeson: Eyeson) -> None:
    room = await eyeson.room(
        "Jane",
        **{
            "options[layout_available]": "false",
            "options[kick_available]": "false",
            "options[lock_available]": "false",
        },
    )
    ak = room["access_key"]
    assert error_of(await eyeson.request("POST", f"/rooms/{ak}/layout", data={"layout": "auto"}))[0] == 405
    assert error_of(await eyeson.request("DELETE", f"/rooms/{ak}/users/{room['user']['id']}"))[0] == 403
    assert error_of(await eyeson.request("POST", f"/rooms/{ak}/lock"))[0] == 403


async def test_lock_keeps_new_users_and_guests_out(eyeson: Eyeson) -> None:
    room = await eyeson.room("Jane", id="locked", **{"options[lock_available]": "true", "user[id]": "jane"})
    r = await eyeson.request("POST", f"/rooms/{room['access_key']}/lock")
    assert r.status_code == 201
    assert (await eyeson.ok("GET", f"/rooms/{room['access_key']}"))["locked"] is True
    token = room["room"]["guest_token"]
    assert error_of(await eyeson.request("POST", f"/guests/{token}", data={"name": "Guest"}))[0] == 423
    r = await eyeson.request("POST", "/rooms", key=eyeson.key, data={"id": "locked", "user[name]": "John"})
    assert error_of(r)[0] == 423
    again = await eyeson.room("Jane", id="locked", **{"user[id]": "jane"})  # who is in may come back
    assert again["access_key"] == room["access_key"]


async def test_kick_and_users_listing(eyeson: Eyeson) -> None:
    jane = await eyeson.room("Jane", id="k", **{"user[id]": "jane"})
    await eyeson.room("John", id="k", **{"user[id]": "john"})
    r = await eyeson.request("DELETE", f"/rooms/{jane['access_key']}/users/john")
    assert r.status_code == 200
    assert error_of(await eyeson.request("DELETE", f"/rooms/{jane['access_key']}/users/nobody"))[0] == 404
    users = await eyeson.ok("GET", "/rooms/k/users", key=eyeson.key)
    assert sorted((u["id"], u["online"]) for u in users) == [("jane", False), ("john", False)]
    assert await eyeson.ok("GET", "/rooms/k/users?online=true", key=eyeson.key) == []
    assert error_of(await eyeson.request("GET", "/rooms/k/users?online=perhaps", key=eyeson.key))[0] == 400
    assert error_of(await eyeson.request("GET", "/rooms/none/users", key=eyeson.key))[0] == 404


async def test_messages_are_checked(eyeson: Eyeson) -> None:
    ak = (await eyeson.room())["access_key"]
    for data in ({"type": "chat"}, {"content": "x"}, {"type": "shout", "content": "x"}):
        assert error_of(await eyeson.request("POST", f"/rooms/{ak}/messages", data=data))[0] == 400
    big = {"type": "chat", "content": "x" * (32 * 1024 + 1)}
    assert error_of(await eyeson.request("POST", f"/rooms/{ak}/messages", data=big))[0] == 400


async def test_offers_are_checked(eyeson: Eyeson) -> None:
    ak = (await eyeson.room())["access_key"]
    path = f"/rooms/{ak}/webrtc"
    assert error_of(await eyeson.request("POST", path, json={"type": "answer", "sdp": "v=0"}))[0] == 400
    assert (
        error_of(await eyeson.request("POST", path, content=b"{", headers={"Content-Type": "application/json"}))[0]
        == 400
    )
    r = await eyeson.request("POST", path, content=b"v=0\r\nnonsense", headers={"Content-Type": "application/sdp"})
    assert error_of(r)[0] == 400
    r = await eyeson.request("POST", path, content=b"v" * 70000, headers={"Content-Type": "application/sdp"})
    assert error_of(r)[0] == 413


async def test_unknown_paths_and_methods(eyeson: Eyeson) -> None:
    assert error_of(await eyeson.request("GET", "/nothing/here"))[0] == 404
    assert error_of(await eyeson.request("PUT", "/rooms", key=eyeson.key))[0] == 405


async def test_layouts_the_canvas_cannot_hold_are_400(eyeson: Eyeson) -> None:
    ak = (await eyeson.room())["access_key"]
    off_canvas = {"map": '[[2000, 0, 100, 100, "auto"]]'}  # the test canvas is 320x240
    too_many = {"layout": "custom", "users[]": [f"u{i}" for i in range(10)]}
    for data in (off_canvas, too_many):
        assert error_of(await eyeson.request("POST", f"/rooms/{ak}/layout", data=data))[0] == 400
    body = await eyeson.ok("GET", f"/rooms/{ak}")
    assert body["options"]["layout"] == "auto" and body["options"]["layout_map"] is None  # nothing stored
