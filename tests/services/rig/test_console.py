"""rig's dashboard in the console, through the app: rig accounts and streams made from forms (rig's own
validation messages beside the fields), a rig account's password set, destinations added, removed, disabled and
enabled, a stream disabled after a confirmation and enabled, the key rotated after a confirmation, the live state
the page receives (streams made and deleted elsewhere included), and nothing of another tenant's instance."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.requests import Request
from starlette.types import Message

from mediaplane.console import live
from mediaplane.core.runtime import Runtime
from mediaplane.kit.clock import FrozenClock
from mediaplane.services.rig.console.events import state_events
from mediaplane.services.rig.models import RigDestination, RigStream
from mediaplane.services.rig.schemas import rfc3339
from tests.console.conftest import PASSWORD, Console
from tests.fixtures.factories import Factory
from tests.services.rig.conftest import PASSWORD as RIG_PASSWORD

BOARD = "/console/rig/tv"
STREAM_LINK = re.compile(r'href="/console/rig/tv/streams/([0-9a-f-]{36})"')
KEY = re.compile(r'<code id="stream-key"[^>]*>([^<]+)</code>')


@pytest.fixture
async def console(factory: Factory, client: httpx.AsyncClient) -> Console:
    """Tenant acme (a console password) with a rig instance `tv`, signed in."""
    acme = await factory.create_tenant("acme", password=PASSWORD)
    await factory.create_instance(await factory.sat(acme.pat, "rig"), "rig", "tv")
    console = Console(client)
    await console.signed_in()
    return console


async def make_account(console: Console, username: str = "alice") -> None:
    data = {"username": username, "email": f"{username}@example.com", "password": RIG_PASSWORD}
    r = await console.post(f"{BOARD}/accounts", data)
    assert (r.status_code, r.headers["location"]) == (303, f"{BOARD}/?done=account")


async def make_stream(console: Console) -> str:
    page = (await console.client.get(f"{BOARD}/")).text
    account = re.search(r'<option value="([^"]+)">alice', page)
    assert account, page
    r = await console.post(f"{BOARD}/streams", {"account": account.group(1)})
    assert r.status_code == 303
    found = re.fullmatch(rf"{BOARD}/streams/([0-9a-f-]{{36}})\?done=created", r.headers["location"])
    assert found, r.headers["location"]
    return found.group(1)


def field_error(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', html)
    assert found, html
    return found.group(1)


async def test_from_an_empty_instance_to_a_stream(console: Console) -> None:
    page = await console.client.get(f"{BOARD}/")
    assert page.status_code == 200
    assert "No streams yet." in page.text and "First create a rig account below" in page.text
    assert 'data-rig-events="/console/rig/tv/events"' in page.text

    # rig's own validation, beside the field; the values kept, never the password.
    bad = {"username": "al", "email": "al@example.com", "password": "short"}
    r = await console.post(f"{BOARD}/accounts", bad)
    assert r.status_code == 400
    assert field_error(r.text, "account-username") == "Too short (less than min)"
    assert field_error(r.text, "account-password") == "Too short (less than min)"
    assert 'value="al@example.com"' in r.text and 'value="short"' not in r.text
    await make_account(console)
    r = await console.post(f"{BOARD}/accounts", {"username": "alice", "email": "x@example.com", "password": "x" * 9})
    assert r.status_code == 400 and field_error(r.text, "account-username") == "Cannot create user account."
    r = await console.post(f"{BOARD}/streams", {"account": "nobody"})
    assert r.status_code == 400 and "Choose the rig account" in r.text

    stream_id = await make_stream(console)
    listing = await console.client.get(f"{BOARD}/")
    assert STREAM_LINK.findall(listing.text) == [stream_id]
    page = await console.client.get(f"{BOARD}/streams/{stream_id}?done=created")
    assert page.status_code == 200 and "The stream is created." in page.text
    key = KEY.search(page.text)
    assert key
    assert '<code id="ingest-server" aria-labelledby="ingest-server-label">rtmp://' in page.text
    assert f"/rig/{key.group(1)}</code>" in page.text  # the whole URL, for FFmpeg
    assert 'data-copy="stream-key"' in page.text and 'data-copy="ingest-url"' in page.text
    assert "No destinations yet" in page.text and "The platform's RTMP ingest is off" in page.text


async def test_destinations_and_the_key(console: Console, client: httpx.AsyncClient) -> None:
    await make_account(console)
    stream_id = await make_stream(console)
    stream = f"{BOARD}/streams/{stream_id}"

    r = await console.post(f"{stream}/destinations", {"service": "Custom", "rtmpUrl": "http://x.example/app"})
    assert r.status_code == 400
    assert field_error(r.text, "destination-url") == "not an rtmp:// or rtmps:// URL"
    assert 'value="http://x.example/app"' in r.text and '<option value="Custom" selected>' in r.text
    r = await console.post(f"{stream}/destinations", {"service": "YouTube", "streamKey": ""})
    assert r.status_code == 400 and field_error(r.text, "destination-key") == "Required (zero value)"
    r = await console.post(f"{stream}/destinations", {"service": "Periscope", "streamKey": "k"})
    assert r.status_code == 400 and field_error(r.text, "destination-service") == "Unable to add destination to stream"

    r = await console.post(f"{stream}/destinations", {"service": "YouTube", "streamKey": "yt-key"})
    assert (r.status_code, r.headers["location"]) == (303, f"{stream}?done=added")
    page = await console.client.get(stream)
    assert "<code>rtmp://a.rtmp.youtube.com/live2</code>" in page.text
    destination = re.search(r'data-destination-id="(\d+)"', page.text)
    assert destination

    # The stream is alice's: she sees the destination through the rig API.
    rig = await rig_api(client, "alice")
    detail = await rig("GET", f"/streams/{stream_id}")
    assert [d["rtmpUrl"] for d in detail["destinations"]] == ["rtmp://a.rtmp.youtube.com/live2/yt-key"]

    r = await console.post(f"{stream}/destinations/{destination.group(1)}/remove")
    assert (r.status_code, r.headers["location"]) == (303, f"{stream}?done=removed")
    assert (await rig("GET", f"/streams/{stream_id}"))["destinations"] is None
    assert (await console.post(f"{stream}/destinations/999999/remove")).status_code == 404

    old_key = detail["streamKey"]
    confirm = await console.client.get(f"{stream}/rotate-key")
    assert confirm.status_code == 200 and f'action="{stream}/rotate-key"' in confirm.text
    r = await console.post(f"{stream}/rotate-key")
    assert (r.status_code, r.headers["location"]) == (303, f"{stream}?done=rotated")
    new_key = (await rig("GET", f"/streams/{stream_id}"))["streamKey"]
    assert new_key != old_key
    key = KEY.search((await console.client.get(stream)).text)
    assert key and key.group(1) == new_key

    r = await console.post(f"{stream}/delete")
    assert (r.status_code, r.headers["location"]) == (303, f"{BOARD}/?done=deleted")
    assert (await console.client.get(stream)).status_code == 404


async def rig_api(
    client: httpx.AsyncClient, username: str, base: str = "/rig/acme-tv", password: str = RIG_PASSWORD
) -> Any:
    login = await client.post(f"{base}/accounts/auth/local", json={"username": username, "password": password})
    assert login.status_code == 200, login.text
    token = login.json()["payload"]["token"]

    async def call(method: str, path: str, body: Any = None) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        r = await client.request(method, f"{base}{path}", headers=headers, json=body)
        assert r.status_code == 200, r.text
        return r.json()["payload"]

    return call


async def test_other_tenants_and_forged_forms(console: Console, factory: Factory) -> None:
    globex = await factory.create_tenant("globex")
    await factory.create_instance(await factory.sat(globex.pat, "rig"), "rig", "other")
    assert (await console.client.get("/console/rig/other/")).status_code == 404
    # globex's stream, made through its rig API, is nowhere in acme's dashboard.
    account = {"username": "bob", "email": "bob@example.com", "password": RIG_PASSWORD}
    created = await console.client.post("/rig/globex-other/accounts/", json=account)
    assert created.status_code == 200
    bob = created.json()["payload"]["userID"]
    assert (await console.client.get(f"{BOARD}/accounts/{bob}/password")).status_code == 404
    theirs = await (await rig_api(console.client, "bob", "/rig/globex-other"))("POST", "/streams/")
    for path in ("", "/events", "/preview/index.m3u8", "/rotate-key"):
        assert (await console.client.get(f"{BOARD}/streams/{theirs['id']}{path}")).status_code == 404, path
    assert (await console.client.get(f"{BOARD}/streams/a%00b/events")).status_code == 404
    await make_account(console)
    stream_id = await make_stream(console)
    assert (await console.client.get(f"{BOARD}/streams/not-a-stream")).status_code == 404
    assert theirs["id"] not in (await console.client.get(f"{BOARD}/")).text
    assert (await console.client.get(f"{BOARD}/static/../../etc/passwd")).status_code == 404
    for action in ("rotate-key", "disable", "enable"):
        r = await console.post(f"{BOARD}/streams/{stream_id}/{action}", token="forged")
        assert r.status_code == 403, action
    r = await console.client.post(f"{BOARD}/streams/{stream_id}/rotate-key", headers={"origin": "http://testserver"})
    assert r.status_code == 403
    assert (await console.client.get(f"{BOARD}/static/rig.js")).headers["content-type"].startswith("text/javascript")


async def test_the_live_state_the_page_receives(console: Console, runtime: Runtime) -> None:
    await make_account(console)
    stream_id = await make_stream(console)
    await console.post(f"{BOARD}/streams/{stream_id}/destinations", {"service": "Twitch", "streamKey": "tw"})
    async with runtime.db.session() as session:  # as the ingest leaves it while the relay runs
        stream = await session.get(RigStream, stream_id)
        assert stream is not None
        instance_id = stream.instance_id
        now = runtime.clock.now()
        stream.is_streaming, stream.live_since, stream.live_seen_at = True, now, now
        for row in (await session.scalars(select(RigDestination))).all():
            row.status, row.bitrate_kbps, row.reconnects = "live", 2345.67, 1

    disconnected = False

    async def receive() -> Message:
        return {"type": "http.disconnect"} if disconnected else {"type": "http.request", "body": b""}

    events = state_events(Request({"type": "http", "headers": []}, receive), runtime, instance_id, stream_id)
    assert await anext(events) == "retry: 1000\n\n"
    event = await anext(events)
    assert event.startswith("event: state\ndata: ") and event.endswith("\n\n")
    state = json.loads(event.split("data: ", 1)[1])
    (shown,) = state["streams"]
    assert (shown["id"], shown["state"]) == (stream_id, "live")
    assert (shown["account"], shown["active"]) == ("alice", True)
    assert shown["destinations"][0] | {"id": 0} == {
        "id": 0,
        "active": True,
        "status": "live",
        "bitrateKbps": 2345.7,
        "reconnects": 1,
        "lastError": None,
    }
    assert "tw" not in event  # no keys go out
    disconnected = True
    assert [e async for e in events] == []  # the client went: the events end

    page = await console.client.get(f"{BOARD}/")
    assert 'class="rig-state rig-live" data-field="state">live<' in page.text


async def test_the_list_follows_streams_made_and_deleted_elsewhere(
    console: Console, client: httpx.AsyncClient, runtime: Runtime, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "POLL_SECONDS", 0.01)
    await make_account(console)
    first = await make_stream(console)
    page = (await console.client.get(f"{BOARD}/")).text
    # What the script adds a row from, and the empty state it shows again when the last stream goes.
    assert 'data-rig-streams="/console/rig/tv/streams/"' in page and '<template id="rig-stream-row">' in page
    assert '<section class="empty" id="no-streams" hidden>' in page
    async with runtime.db.session() as session:
        stream = await session.get(RigStream, first)
        assert stream is not None
        instance_id = stream.instance_id

    events = state_events(Request({"type": "http", "headers": []}, _never_disconnected), runtime, instance_id, None)

    async def streams() -> list[dict[str, Any]]:
        event = await anext(events)
        while not event.startswith("event: state"):
            event = await anext(events)
        shown: list[dict[str, Any]] = json.loads(event.split("data: ", 1)[1])["streams"]
        return shown

    assert [s["id"] for s in await streams()] == [first]
    rig = await rig_api(client, "alice")
    clock.advance(timedelta(seconds=1))  # the list is oldest first
    made = (await rig("POST", "/streams/"))["id"]  # as `mediaplane rig streams create` does
    both = await streams()
    assert [s["id"] for s in both] == [first, made]
    # What a new row shows: the account and when it was made (the page writes it as the console does).
    assert (both[1]["account"], both[1]["created"]) == ("alice", rfc3339(clock.now()))
    await rig("DELETE", f"/streams/{first}")
    assert [s["id"] for s in await streams()] == [made]
    await events.aclose()


async def _never_disconnected() -> Message:
    return {"type": "http.request", "body": b""}


async def test_enable_and_disable(console: Console, client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_account(console)
    stream_id = await make_stream(console)
    stream = f"{BOARD}/streams/{stream_id}"
    await console.post(f"{stream}/destinations", {"service": "Twitch", "streamKey": "tw"})
    rig = await rig_api(client, "alice")
    (destination,) = (await rig("GET", f"/streams/{stream_id}"))["destinations"]
    one = f"{stream}/destinations/{destination['id']}"

    r = await console.post(f"{one}/disable")
    assert (r.status_code, r.headers["location"]) == (303, f"{stream}?done=destination-off")
    assert (await rig("GET", f"/streams/{stream_id}"))["destinations"][0]["isActive"] is False
    page = (await console.client.get(stream)).text
    assert 'data-field="status">off<' in page
    assert f'action="{one}/enable" data-field="enable">' in page
    assert f'action="{one}/disable" data-field="disable" hidden>' in page
    r = await console.post(f"{one}/enable")
    assert (r.status_code, r.headers["location"]) == (303, f"{stream}?done=destination-on")
    assert (await rig("GET", f"/streams/{stream_id}"))["destinations"][0]["isActive"] is True
    assert (await console.post(f"{stream}/destinations/999999/disable")).status_code == 404

    async with runtime.db.session() as session:  # live, as the ingest leaves it: disabling ends the session
        row = await session.get(RigStream, stream_id)
        assert row is not None
        row.is_streaming, row.live_since, row.live_seen_at = True, runtime.clock.now(), runtime.clock.now()
    confirm = await console.client.get(f"{stream}/disable")
    assert confirm.status_code == 200 and "the live session ends now" in confirm.text
    assert f'action="{stream}/disable"' in confirm.text
    r = await console.post(f"{stream}/disable")
    assert (r.status_code, r.headers["location"]) == (303, f"{stream}?done=disabled")
    detail = await rig("GET", f"/streams/{stream_id}")
    assert (detail["isActive"], detail["isStreaming"]) == (False, False)
    page = (await console.client.get(f"{stream}?done=disabled")).text
    assert "The stream is disabled" in page and 'data-field="state" role="status">inactive<' in page
    assert '<p class="warning" data-field="inactive">' in page
    assert f'action="{stream}/enable" data-field="streamEnable">' in page
    assert 'data-field="streamDisable" hidden>' in page
    listing = (await console.client.get(f"{BOARD}/")).text
    assert 'class="rig-state rig-inactive" data-field="state">inactive<' in listing

    r = await console.post(f"{stream}/enable")
    assert (r.status_code, r.headers["location"]) == (303, f"{stream}?done=enabled")
    assert (await rig("GET", f"/streams/{stream_id}"))["isActive"] is True


async def test_a_rig_accounts_password(console: Console, client: httpx.AsyncClient) -> None:
    await make_account(console)
    page = (await console.client.get(f"{BOARD}/")).text
    found = re.search(r'href="(/console/rig/tv/accounts/[^"/]+/password)"', page)
    assert found, page
    form = found.group(1)
    assert (await console.client.get(form)).status_code == 200
    new = "N3w-pass-for-alice"

    r = await console.post(form, {"newPassword": new, "confirmPassword": new + "x"})
    assert r.status_code == 400 and field_error(r.text, "account-confirm-password") == "The two passwords differ."
    r = await console.post(form, {"newPassword": "short", "confirmPassword": "short"})
    assert r.status_code == 400 and field_error(r.text, "account-new-password") == "Too short (less than min)"
    await rig_api(client, "alice")  # nothing changed yet

    r = await console.post(form, {"newPassword": new, "confirmPassword": new})
    assert (r.status_code, r.headers["location"]) == (303, f"{BOARD}/?done=password")
    await rig_api(client, "alice", password=new)
    old = {"username": "alice", "password": RIG_PASSWORD}
    assert (await client.post("/rig/acme-tv/accounts/auth/local", json=old)).status_code == 401
    assert (await console.client.get(f"{BOARD}/accounts/nobody/password")).status_code == 404
