"""Every request of specs/eyeson.md that this service covers, sent as its curl examples send them
(form-encoded), with the answers' shapes compared to the spec's examples."""

from __future__ import annotations

from typing import Any

from tests.services.eyeson.conftest import Eyeson, error_of

# The spec's example room response, less the SIP credentials (no SIP here).
ROOM_KEYS = {"access_key", "ready", "room", "team", "user", "links"}
ROOM_ROOM_KEYS = {"id", "name", "ready", "shutdown", "guest_token"}
ROOM_USER_KEYS = {"id", "name", "avatar", "guest", "ready"}
LINK_KEYS = {"gui", "self", "websocket"}


def assert_room_shape(body: dict[str, Any]) -> None:
    assert set(body) >= ROOM_KEYS, body
    assert set(body["room"]) >= ROOM_ROOM_KEYS, body["room"]
    assert set(body["user"]) >= ROOM_USER_KEYS, body["user"]
    assert set(body["links"]) >= LINK_KEYS, body["links"]
    assert isinstance(body["access_key"], str) and len(body["access_key"]) == 24
    assert isinstance(body["ready"], bool) and isinstance(body["room"]["shutdown"], bool)
    assert body["team"] == {"name": "My Company Ltd."}


async def test_create_room_form_encoded(eyeson: Eyeson) -> None:
    body = await eyeson.room("Jane Doe", **{"user[avatar]": "https://example.com/avatar.png", "name": "eyeson room"})
    assert_room_shape(body)
    assert body["user"]["name"] == "Jane Doe" and body["user"]["guest"] is False
    assert body["user"]["avatar"] == "https://example.com/avatar.png"
    assert body["room"]["name"] == "eyeson room" and len(body["room"]["id"]) == 24
    assert body["ready"] is True and body["room"]["ready"] is True and body["user"]["ready"] is True
    ak = body["access_key"]
    assert body["links"]["gui"].endswith(f"/eyeson/acme-team/gui/?{ak}")
    assert body["links"]["self"].endswith(f"/rooms/{ak}")
    assert body["links"]["websocket"].endswith(f"/rt?access_key={ak}")
    assert body["options"]["show_names"] is True and body["options"]["sfu_mode"] == "ptp"
    assert body["options"]["lock_available"] is False


async def test_room_details_by_access_key(eyeson: Eyeson) -> None:
    created = await eyeson.room("Jane Doe", id="standup")
    body = await eyeson.ok("GET", f"/rooms/{created['access_key']}")
    assert_room_shape(body)
    assert body["room"] == created["room"] and body["user"]["id"] == created["user"]["id"]


async def test_same_id_joins_the_running_meeting(eyeson: Eyeson) -> None:
    first = await eyeson.room("Jane", id="standup", **{"user[id]": "jane@example.com"})
    second = await eyeson.room("John", id="standup")
    assert first["room"]["guest_token"] == second["room"]["guest_token"]
    assert first["access_key"] != second["access_key"]
    again = await eyeson.room("Jane D.", id="standup", **{"user[id]": "jane@example.com"})
    assert again["access_key"] == first["access_key"] and again["user"]["name"] == "Jane D."


async def test_user_details(eyeson: Eyeson) -> None:
    created = await eyeson.room("Jane Doe", **{"user[id]": "596f5e442a3d24196f1b7d32"})
    body = await eyeson.ok("GET", f"/rooms/{created['access_key']}/users/596f5e442a3d24196f1b7d32")
    assert {"id", "name", "avatar", "guest"} <= set(body)
    assert body["id"] == "596f5e442a3d24196f1b7d32" and body["guest"] is False
    r = await eyeson.request("GET", f"/rooms/{created['access_key']}/users/nobody")
    assert error_of(r)[0] == 404


async def test_guest_joins_with_the_guest_token(eyeson: Eyeson) -> None:
    created = await eyeson.room("Jane Doe")
    token = created["room"]["guest_token"]
    guest = await eyeson.ok("POST", f"/guests/{token}", 201, data={"name": "Some User", "id": "unique-user-id"})
    assert_room_shape(guest)
    assert guest["user"]["guest"] is True and guest["user"]["id"] == "unique-user-id"
    assert guest["room"]["id"] == created["room"]["id"]
    r = await eyeson.request("POST", "/guests/not-a-token", data={"name": "x"})
    assert error_of(r)[0] == 401


async def test_messages(eyeson: Eyeson) -> None:
    ak = (await eyeson.room())["access_key"]
    await eyeson.ok("POST", f"/rooms/{ak}/messages", 201, data={"type": "chat", "content": "Hello!"})
    r = await eyeson.request("POST", f"/rooms/{ak}/messages", data={"type": "chat"})
    assert error_of(r)[0] == 400


async def test_layout_curl_example(eyeson: Eyeson) -> None:
    ak = (await eyeson.room())["access_key"]
    r = await eyeson.request(
        "POST",
        f"/rooms/{ak}/layout",
        content="users[]=USER_ID_A&users[]=USER_ID_B&users[]=USER_ID_C&users[]=USER_ID_D",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200, r.text
    body = await eyeson.ok("GET", f"/rooms/{ak}")
    assert body["options"]["layout"] == "custom"
    assert body["options"]["layout_users"] == ["USER_ID_A", "USER_ID_B", "USER_ID_C", "USER_ID_D"]


async def test_webhooks(eyeson: Eyeson) -> None:
    data = {"url": "https://eyeson.com/webhook", "types": "room_update"}
    created = await eyeson.ok("POST", "/webhooks", 201, key=eyeson.key, data=data)
    body = await eyeson.ok("GET", "/webhooks", key=eyeson.key)
    assert set(body) == {"id", "url", "types", "last_request_sent_at", "last_response_code"}
    assert body["id"] == created["id"] and body["url"] == "https://eyeson.com/webhook"
    assert body["types"] == "room_update"
    r = await eyeson.request("DELETE", f"/webhooks/{body['id']}", key=eyeson.key)
    assert r.status_code == 204
    assert await eyeson.ok("GET", "/webhooks", key=eyeson.key) is None


async def test_force_stop_then_gone(eyeson: Eyeson) -> None:
    created = await eyeson.room("Jane", id="daily")
    r = await eyeson.request("DELETE", "/rooms/daily", key=eyeson.key)
    assert r.status_code == 204, r.text
    assert error_of(await eyeson.request("GET", f"/rooms/{created['access_key']}"))[0] == 410
    token = created["room"]["guest_token"]
    assert error_of(await eyeson.request("POST", f"/guests/{token}", data={"name": "Late"}))[0] == 410
    assert error_of(await eyeson.request("DELETE", "/rooms/daily", key=eyeson.key))[0] == 404
    again = await eyeson.room("Jane", id="daily")
    assert again["room"]["guest_token"] != token and again["room"]["shutdown"] is False
