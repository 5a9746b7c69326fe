"""eyeson's dashboard in the console, through the app: a room started from the form, the owner's join link to
the GUI, a peer's participant on the page, a recording started and stopped from the dashboard and its file
served, a broadcast refused with eyeson's message beside the field, join links for someone, a message sent to a
meeting, a meeting ended for everyone, the API key rotated, the webhook set and cleared, the live state the
pages receive, and nothing of another tenant's instance."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select
from starlette.requests import Request
from starlette.types import Message

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.services.eyeson.console.events import state_events
from mediaplane.services.eyeson.events import room_channel
from mediaplane.services.eyeson.media import media_rooms
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonRecording, EyesonWebhook
from mediaplane.services.eyeson.repository import EyesonRepository
from tests.console.conftest import PASSWORD, Console
from tests.fixtures.factories import Factory
from tests.fixtures.webrtc import RED, Peer
from tests.services.eyeson.conftest import API_KEY, Eyeson, connect, online

pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("loopback_ice")]
BOARD = "/console/eyeson/team"
ROOM_LINK = re.compile(r'href="/console/eyeson/team/rooms/([0-9a-zA-Z-]+)"')


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


@pytest.fixture
async def board(factory: Factory, client: httpx.AsyncClient, runtime: Runtime) -> AsyncIterator[Console]:
    """Tenant acme (a console password) with an eyeson instance `team`, signed in."""
    acme = await factory.create_tenant("acme", password=PASSWORD)
    await factory.create_instance(await factory.sat(acme.pat, "eyeson"), "eyeson", "team", apiKey=API_KEY)
    console = Console(client)
    await console.signed_in()
    try:
        yield console
    finally:
        await media_rooms(runtime).close()


def api(board: Console, runtime: Runtime) -> Eyeson:
    return Eyeson(board.client, runtime, "", "team", {})


async def until_ready(runtime: Runtime, recording_id: str, within: float = 30) -> None:
    for _ in range(int(within / 0.1)):
        async with runtime.db.session() as session:
            found = await session.get(EyesonRecording, recording_id)
            if found is not None and found.status in ("ready", "failed"):
                assert found.status == "ready", found.error
                return
        await asyncio.sleep(0.1)
    raise AssertionError("the recording is not ready")


async def test_a_room_from_the_form_and_its_recording(board: Console, runtime: Runtime, peers: list[Peer]) -> None:
    page = await board.client.get(f"{BOARD}/")
    assert page.status_code == 200 and "No room is running now." in page.text
    assert 'data-eyeson-events="/console/eyeson/team/events"' in page.text

    r = await board.post(f"{BOARD}/rooms", {"name": "Weekly"})
    assert r.status_code == 303
    found = re.fullmatch(rf"{BOARD}/rooms/([^/?]+)\?done=created", r.headers["location"])
    assert found, r.headers["location"]
    room = f"{BOARD}/rooms/{found.group(1)}"
    listing = await board.client.get(f"{BOARD}/")
    assert ROOM_LINK.findall(listing.text) == [found.group(1)] and ">Weekly</a>" in listing.text
    page = await board.client.get(room)
    assert page.status_code == 200 and "/eyeson/acme-team/gui/?guest=" in page.text

    # The owner's join link: the room's GUI with an access key of their own, which the API knows.
    r = await board.post(f"{room}/join")
    assert r.status_code == 303
    link = re.fullmatch(r"http://testserver/eyeson/acme-team/gui/\?([A-Za-z0-9]+)", r.headers["location"])
    assert link, r.headers["location"]
    eyeson = api(board, runtime)
    me = await eyeson.ok("GET", f"/rooms/{link.group(1)}")
    assert me["user"]["name"] == "admin"

    # A peer joins through the API; the dashboard shows them connected.
    peer = await eyeson.room("Pia Peer", id=me["room"]["id"], **{"user[id]": "pia"})
    peers.append(await connect(eyeson, Peer(RED), peer["access_key"]))
    await online(eyeson, me["room"]["id"], {"pia"})
    page = await board.client.get(room)
    assert '<li class="online">Pia Peer — connected</li>' in page.text

    # Broadcast: eyeson's own message beside the field, the value kept.
    r = await board.post(f"{room}/broadcast/start", {"stream_url": "http://not-rtmp.example/x"})
    assert r.status_code == 400 and 'id="stream-url-error">stream_url: ' in r.text
    assert 'value="http://not-rtmp.example/x"' in r.text

    r = await board.post(f"{room}/recording/start")
    assert (r.status_code, r.headers["location"]) == (303, f"{room}?done=recording")
    r = await board.post(f"{room}/recording/start")
    assert r.status_code == 400 and "a recording is running already" in r.text
    await asyncio.sleep(1.0)
    r = await board.post(f"{room}/recording/stop")
    assert (r.status_code, r.headers["location"]) == (303, f"{room}?done=stopped")
    recording_id = re.search(r'data-recording-id="([^"]+)"', (await board.client.get(room)).text)
    assert recording_id
    await until_ready(runtime, recording_id.group(1))
    page = await board.client.get(room)
    src = f'src="{BOARD}/recordings/{recording_id.group(1)}/file"'
    assert src in page.text
    video = await board.client.get(f"{BOARD}/recordings/{recording_id.group(1)}/file")
    assert video.status_code == 200 and video.headers["content-type"] == "video/webm"
    assert video.content[:4] == b"\x1a\x45\xdf\xa3"  # EBML: a WebM file
    part = await board.client.get(video.url, headers={"range": "bytes=0-9"})
    assert part.status_code == 206 and len(part.content) == 10
    download = await board.client.get(f"{BOARD}/recordings/{recording_id.group(1)}/file?download=1")
    assert download.headers["content-disposition"].startswith("attachment;")


async def test_join_links_a_message_and_the_end_of_a_meeting(board: Console, runtime: Runtime) -> None:
    r = await board.post(f"{BOARD}/join-link", {"name": " ", "room": "standup"})
    assert r.status_code == 400 and 'id="join-name-error">user[name] is required' in r.text
    assert 'value="standup"' in r.text
    r = await board.post(f"{BOARD}/join-link", {"name": "Ann", "room": "standup"})
    assert r.status_code == 200, r.text
    gui = re.search(r'id="gui-link"[^>]*>http://testserver/eyeson/acme-team/gui/\?([A-Za-z0-9]+)<', r.text)
    assert gui and 'id="guest-link"' in r.text and "/eyeson/acme-team/gui/?guest=" in r.text
    eyeson = api(board, runtime)
    ann = await eyeson.ok("GET", f"/rooms/{gui.group(1)}")
    assert (ann["user"]["name"], ann["room"]["id"], ann["ready"]) == ("Ann", "standup", True)
    (meeting_id,) = ROOM_LINK.findall((await board.client.get(f"{BOARD}/")).text)
    room = f"{BOARD}/rooms/{meeting_id}"
    assert (
        f'<option value="{ann["user"]["id"]}">Ann ({ann["user"]["id"]})</option>' in (await board.client.get(room)).text
    )

    # A chat message as Ann, through the access key the API gave for her: everyone in the meeting gets it.
    async with runtime.events.subscribe(room_channel(meeting_id)) as observed:
        r = await board.post(f"{room}/messages", {"user": ann["user"]["id"], "type": "chat", "content": "Hello"})
        assert (r.status_code, r.headers["location"]) == (303, f"{room}?done=said")
        said = await asyncio.wait_for(anext(aiter(observed)), 5)
    assert (said["type"], said["content"], said["user_id"]) == ("chat", "Hello", ann["user"]["id"])
    r = await board.post(f"{room}/messages", {"user": "", "type": "chat", "content": ""})
    assert r.status_code == 400 and 'id="say-content-error">content is required' in r.text
    r = await board.post(f"{room}/messages", {"user": "nobody", "type": "chat", "content": "Hi"})
    assert r.status_code == 400 and 'id="say-user-error">user: choose someone' in r.text

    # Ending the meeting asks first; then it ends for everyone, as DELETE /rooms/ROOM_ID does.
    confirm = await board.client.get(f"{room}/stop")
    assert confirm.status_code == 200 and f'action="{room}/stop"' in confirm.text
    assert [m["id"] for m in await eyeson.ok("GET", "/rooms", key=API_KEY)] == ["standup"]
    r = await board.post(f"{room}/stop")
    assert (r.status_code, r.headers["location"]) == (303, f"{room}?done=ended")
    assert await eyeson.ok("GET", "/rooms", key=API_KEY) == []
    assert (await eyeson.request("GET", f"/rooms/{gui.group(1)}")).status_code == 410
    assert "The meeting has ended for everyone" in (await board.client.get(r.headers["location"])).text


async def test_rotating_the_api_key(board: Console, runtime: Runtime) -> None:
    eyeson = api(board, runtime)
    confirm = await board.client.get(f"{BOARD}/api-key/rotate")
    assert confirm.status_code == 200 and "the old one stops working at once" in confirm.text
    assert (await board.post(f"{BOARD}/api-key/rotate", token="forged")).status_code == 403
    assert (await eyeson.request("GET", "/rooms", key=API_KEY)).status_code == 200
    r = await board.post(f"{BOARD}/api-key/rotate")
    found = re.search(r'<code id="new-key">([A-Za-z0-9]{42})</code>', r.text)
    assert r.status_code == 200 and found and 'data-copy="new-key"' in r.text
    assert "webhooks are now signed with this one" in r.text
    assert (await eyeson.request("GET", "/rooms", key=API_KEY)).status_code == 401
    assert await eyeson.ok("GET", "/rooms", key=found.group(1)) == []
    async with runtime.db.session() as session:
        instance = (await session.scalars(select(Instance).where(Instance.name == "team"))).one()
    assert instance.options["apiKey"] == found.group(1)


async def test_the_webhook_form(board: Console, runtime: Runtime) -> None:
    r = await board.post(f"{BOARD}/webhook", {"url": "ftp://x.example/hook", "types": "room_update"})
    assert r.status_code == 400 and 'id="webhook-error">An http:// or https:// URL' in r.text
    assert 'value="ftp://x.example/hook"' in r.text
    r = await board.post(f"{BOARD}/webhook", {"url": "https://x.example/hook"})
    assert r.status_code == 400 and "Choose at least one kind of event." in r.text
    r = await board.post(f"{BOARD}/webhook", {"url": "https://x.example/hook", "types": "recording_update"})
    assert (r.status_code, r.headers["location"]) == (303, f"{BOARD}/?done=webhook")
    # Through the API with the team's key: the same webhook.
    hook = await api(board, runtime).ok("GET", "/webhooks", key=API_KEY)
    assert (hook["url"], hook["types"], hook["last_response_code"]) == (
        "https://x.example/hook",
        "recording_update",
        None,
    )
    async with runtime.db.session() as session:  # as a delivery leaves it
        row = await session.get(EyesonWebhook, hook["id"])
        assert row is not None
        row.last_request_sent_at, row.last_response_code = runtime.clock.now(), "502"
    page = await board.client.get(f"{BOARD}/")
    assert "answered <strong>502</strong>" in page.text
    r = await board.post(f"{BOARD}/webhook/clear")
    assert (r.status_code, r.headers["location"]) == (303, f"{BOARD}/?done=cleared")
    assert await api(board, runtime).ok("GET", "/webhooks", key=API_KEY) is None


async def test_the_live_state_and_other_tenants(board: Console, runtime: Runtime, factory: Factory) -> None:
    eyeson = api(board, runtime)
    mine = await eyeson.room("Ann", id="mine", **{"user[id]": "ann"})
    globex = await factory.create_tenant("globex")
    await factory.create_instance(await factory.sat(globex.pat, "eyeson"), "eyeson", "other", apiKey=API_KEY + "x")
    assert (await board.client.get("/console/eyeson/other/")).status_code == 404
    r = await board.client.post(
        "/eyeson/globex-other/rooms", headers={"Authorization": API_KEY + "x"}, data={"user[name]": "Bob"}
    )
    assert r.status_code == 201, r.text
    their_meeting = r.json()["room"]["id"]
    listing = (await board.client.get(f"{BOARD}/")).text
    mine_link = ROOM_LINK.findall(listing)
    assert len(mine_link) == 1 and "Bob" not in listing
    meeting_id = mine_link[0]
    async with runtime.db.session() as session:
        others = (await session.scalars(select(Instance).where(Instance.name == "other"))).one()
        (their_row,) = await EyesonRepository(session, others.id).running_meetings()
    for path in ("", "/events", "/join"):
        assert (await board.client.get(f"{BOARD}/rooms/{their_row.id}{path}")).status_code in (404, 405), path
    assert (await board.post(f"{BOARD}/rooms/{their_row.id}/recording/start")).status_code == 404
    assert (await board.client.get(f"{BOARD}/rooms/a%00b/events")).status_code == 404
    assert (await board.client.get(f"{BOARD}/static/../../etc/passwd")).status_code == 404
    assert (await board.post(f"{BOARD}/rooms/{meeting_id}/recording/start", token="forged")).status_code == 403
    r = await board.client.post(f"{BOARD}/rooms/{meeting_id}/snapshot", headers={"origin": "http://testserver"})
    assert r.status_code == 403
    assert their_meeting != mine["room"]["id"]

    disconnected = False

    async def receive() -> Message:
        return {"type": "http.disconnect"} if disconnected else {"type": "http.request", "body": b""}

    async with runtime.db.session() as session:
        meeting = await session.get(EyesonMeeting, meeting_id)
        assert meeting is not None
        mine_instance = meeting.instance_id
    events = state_events(Request({"type": "http", "headers": []}, receive), runtime, mine_instance, meeting_id)
    assert await anext(events) == "retry: 1000\n\n"
    event = await anext(events)
    assert event.startswith("event: state\ndata: ") and event.endswith("\n\n")
    (room,) = json.loads(event.split("data: ", 1)[1])["rooms"]
    assert room["id"] == meeting_id and [u["name"] for u in room["users"]] == ["Ann"]
    assert mine["access_key"] not in event and "guest" not in event.replace('"guest": false', "")
    disconnected = True
    assert [e async for e in events] == []

    # The list's state: what a row needs for a room started elsewhere; an ended meeting leaves it.
    disconnected = False
    listing_events = state_events(Request({"type": "http", "headers": []}, receive), runtime, mine_instance, None)
    await anext(listing_events)
    (room,) = json.loads((await anext(listing_events)).split("data: ", 1)[1])["rooms"]
    assert (room["id"], room["name"]) == (meeting_id, "mine")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", room["started"])
    await eyeson.ok("DELETE", "/rooms/mine", 204, key=API_KEY)
    assert json.loads((await anext(listing_events)).split("data: ", 1)[1])["rooms"] == []
    disconnected = True
    assert [e async for e in listing_events] == []
