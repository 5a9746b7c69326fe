"""rig's dashboard in the console, through the app: rig accounts and streams made from forms (rig's own
validation messages beside the fields), destinations added and removed, the key rotated after a confirmation,
the live state the page receives, and nothing of another tenant's instance."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from starlette.requests import Request
from starlette.types import Message

from mediaplane.core.runtime import Runtime
from mediaplane.services.rig.console.events import state_events
from mediaplane.services.rig.models import RigDestination, RigStream
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


async def rig_api(client: httpx.AsyncClient, username: str, base: str = "/rig/acme-tv") -> Any:
    login = await client.post(f"{base}/accounts/auth/local", json={"username": username, "password": RIG_PASSWORD})
    token = login.json()["payload"]["token"]

    async def call(method: str, path: str) -> Any:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        r = await client.request(method, f"{base}{path}", headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["payload"]

    return call


async def test_other_tenants_and_forged_forms(console: Console, factory: Factory) -> None:
    globex = await factory.create_tenant("globex")
    await factory.create_instance(await factory.sat(globex.pat, "rig"), "rig", "other")
    assert (await console.client.get("/console/rig/other/")).status_code == 404
    # globex's stream, made through its rig API, is nowhere in acme's dashboard.
    account = {"username": "bob", "email": "bob@example.com", "password": RIG_PASSWORD}
    assert (await console.client.post("/rig/globex-other/accounts/", json=account)).status_code == 200
    theirs = await (await rig_api(console.client, "bob", "/rig/globex-other"))("POST", "/streams/")
    for path in ("", "/events", "/preview/index.m3u8", "/rotate-key"):
        assert (await console.client.get(f"{BOARD}/streams/{theirs['id']}{path}")).status_code == 404, path
    assert (await console.client.get(f"{BOARD}/streams/a%00b/events")).status_code == 404
    await make_account(console)
    stream_id = await make_stream(console)
    assert (await console.client.get(f"{BOARD}/streams/not-a-stream")).status_code == 404
    assert theirs["id"] not in (await console.client.get(f"{BOARD}/")).text
    assert (await console.client.get(f"{BOARD}/static/../../etc/passwd")).status_code == 404
    r = await console.post(f"{BOARD}/streams/{stream_id}/rotate-key", token="forged")
    assert r.status_code == 403
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
    assert shown["destinations"][0] | {"id": 0} == {
        "id": 0,
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
