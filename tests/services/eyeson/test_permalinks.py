"""Permalinks: a room defined ahead of its meetings, hosts whose tokens start it, a lasting guest link that
lets guests in while a meeting runs, expiry, listing and changes."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from mediaplane.kit.clock import FrozenClock
from mediaplane.services.eyeson.background import sweep
from tests.services.eyeson.conftest import Eyeson, error_of


async def create(eyeson: Eyeson, **fields: str) -> dict[str, Any]:
    data = {"user[name]": "John Doe", "user[id]": "johndoe", "options[widescreen]": "true", **fields}
    body: dict[str, Any] = await eyeson.ok("POST", "/permalink", 201, key=eyeson.key, data=data)
    return body


async def test_create_as_the_docs_show_it(eyeson: Eyeson) -> None:
    body = await create(eyeson, name="Weekly")
    assert set(body) == {"permalink", "room", "team", "user", "options", "links"}
    link = body["permalink"]
    assert set(link) == {"id", "created_at", "user_token", "guest_token", "expires_at"}
    assert len(link["user_token"]) == 24 and len(link["guest_token"]) == 24 and link["expires_at"] is None
    assert body["room"] == {"id": link["id"], "name": "Weekly", "started_at": None}
    assert body["user"]["id"] == "johndoe" and body["user"]["guest"] is False
    assert body["options"]["widescreen"] is True and body["options"]["layout"] == "auto"
    assert body["links"]["gui"].endswith(f"/gui/?permalink={link['user_token']}")
    assert body["links"]["guest_join"].endswith(f"/gui/?guest={link['guest_token']}")
    # JSON with bracket keys, as the docs' curl example sends it
    r = await eyeson.request(
        "POST", "/permalink", key=eyeson.key, json={"user[name]": "Jo", "options[widescreen]": True}
    )
    assert r.status_code == 201, r.text


async def test_hosts_start_guests_wait_then_join(eyeson: Eyeson, clock: FrozenClock) -> None:
    body = await create(eyeson)
    token, guest = body["permalink"]["user_token"], body["permalink"]["guest_token"]
    r = await eyeson.request("POST", f"/guests/{guest}", data={"name": "Early"})
    assert error_of(r)[0] == 423  # no meeting yet: guests wait for a host

    started = await eyeson.ok("POST", f"/permalink/{token}", 201)
    assert started["room"]["id"] == body["permalink"]["id"] and started["user"]["id"] == "johndoe"
    assert started["ready"] is True
    again = await eyeson.ok("GET", f"/permalink/{token}")  # eyeson-js also GETs it: the same meeting
    assert again["access_key"] == started["access_key"]
    joined = await eyeson.ok("POST", f"/guests/{guest}", 201, data={"name": "Gina"})
    assert joined["user"]["guest"] is True and joined["room"]["id"] == body["permalink"]["id"]

    # The meeting ends; the links stay: the host starts the next one, the same guest link works again.
    clock.advance(timedelta(seconds=eyeson.runtime.settings.eyeson_empty_timeout + 1))
    assert await sweep(eyeson.runtime) == 1
    assert error_of(await eyeson.request("POST", f"/guests/{guest}", data={"name": "Late"}))[0] == 423
    second = await eyeson.ok("POST", f"/permalink/{token}", 201)
    assert second["access_key"] != started["access_key"]
    await eyeson.ok("POST", f"/guests/{guest}", 201, data={"name": "Gina"})
    shown = await eyeson.ok("GET", f"/permalink/{body['permalink']['id']}", key=eyeson.key)
    assert shown["room"]["started_at"] == second["room"]["started_at"]


async def test_expiry(eyeson: Eyeson, clock: FrozenClock) -> None:
    soon = (clock.now() + timedelta(hours=1)).isoformat()
    body = await create(eyeson, expires_at=soon)
    assert body["permalink"]["expires_at"] is not None
    clock.advance(timedelta(hours=2))
    r = await eyeson.request("POST", f"/permalink/{body['permalink']['user_token']}")
    assert error_of(r)[0] == 410
    assert (
        error_of(
            await eyeson.request("POST", "/permalink", key=eyeson.key, data={"user[name]": "x", "expires_at": "soon"})
        )[0]
        == 400
    )


async def test_listing_changes_hosts_and_deletion(eyeson: Eyeson, clock: FrozenClock) -> None:
    first = await create(eyeson, name="One")
    await create(eyeson, name="Two", expires_at=(clock.now() + timedelta(minutes=1)).isoformat())
    clock.advance(timedelta(minutes=2))
    page = await eyeson.ok("GET", "/permalink?limit=1", key=eyeson.key)
    assert page["page"] == 1 and page["limit"] == 1 and page["total"] == 2 and len(page["items"]) == 1
    assert [
        i["room"]["name"] for i in (await eyeson.ok("GET", "/permalink?expired=false", key=eyeson.key))["items"]
    ] == ["One"]
    assert [
        i["room"]["name"] for i in (await eyeson.ok("GET", "/permalink?expired=true", key=eyeson.key))["items"]
    ] == ["Two"]

    pid = first["permalink"]["id"]
    changed = await eyeson.ok(
        "PUT", f"/permalink/{pid}", key=eyeson.key, data={"name": "Renamed", "options[show_names]": "false"}
    )
    assert changed["room"]["name"] == "Renamed" and changed["options"]["show_names"] is False
    assert changed["options"]["widescreen"] is True  # kept

    added = await eyeson.ok(
        "POST", f"/permalink/{pid}/users", 201, key=eyeson.key, data={"user[name]": "Jane", "user[id]": "jane"}
    )
    r = await eyeson.request(
        "POST", f"/permalink/{pid}/users", key=eyeson.key, data={"user[name]": "Jane", "user[id]": "jane"}
    )
    assert error_of(r)[0] == 409
    shown = await eyeson.ok("GET", f"/permalink/{pid}", key=eyeson.key)
    assert [u["id"] for u in shown["users"]] == ["johndoe", "jane"]
    jane_token = added["permalink"]["user_token"]
    r = await eyeson.request("DELETE", f"/permalink/{pid}/users/{jane_token}", key=eyeson.key)
    assert r.status_code == 204
    assert error_of(await eyeson.request("POST", f"/permalink/{jane_token}"))[0] == 404

    r = await eyeson.request("DELETE", f"/permalink/{pid}", key=eyeson.key)
    assert r.status_code == 204
    assert error_of(await eyeson.request("POST", f"/permalink/{first['permalink']['user_token']}"))[0] == 404
    assert error_of(await eyeson.request("GET", f"/permalink/{pid}", key=eyeson.key))[0] == 404


async def test_permalink_admin_needs_the_key(eyeson: Eyeson) -> None:
    body = await create(eyeson)
    pid = body["permalink"]["id"]
    for method, path in (
        ("POST", "/permalink"),
        ("GET", "/permalink"),
        ("PUT", f"/permalink/{pid}"),
        ("DELETE", f"/permalink/{pid}"),
        ("POST", f"/permalink/{pid}/users"),
    ):
        assert error_of(await eyeson.request(method, path, data={"user[name]": "x"}))[0] in (401, 404)
    assert error_of(await eyeson.request("GET", "/permalink"))[0] == 401
    assert error_of(await eyeson.request("DELETE", f"/permalink/{pid}"))[0] == 401
