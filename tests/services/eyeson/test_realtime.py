"""The realtime websocket as eyeson's observers use it: ActionCable frames, the events of a meeting in order,
the team's room_id access, and the end of the connection with the meeting."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets

from tests.services.eyeson.live_server import LiveEyeson, live_eyeson

ROOM = json.dumps({"channel": "RoomChannel"})


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveEyeson]:
    with live_eyeson(tmp_path) as server:
        yield server


async def frame(ws: Any, *, skip_pings: bool = True) -> dict[str, Any]:
    while True:
        message = json.loads(await ws.recv(decode=True))
        if not (skip_pings and message.get("type") == "ping"):
            return message  # type: ignore[no-any-return]


async def subscribed(ws: Any, identifier: str = ROOM) -> dict[str, Any]:
    assert await frame(ws) == {"type": "welcome"}
    await ws.send(json.dumps({"command": "subscribe", "identifier": identifier}))
    assert await frame(ws) == {"identifier": identifier, "type": "confirm_subscription"}
    first = await frame(ws)
    assert first["identifier"] == identifier
    return first["message"]  # type: ignore[no-any-return]


async def event(ws: Any) -> dict[str, Any]:
    message = await frame(ws)
    assert message.get("identifier") == ROOM, message
    return message["message"]  # type: ignore[no-any-return]


async def test_user_observes_chat_layout_and_shutdown(live: LiveEyeson) -> None:
    room = live.room("Jane", id="observed")
    ak = room["access_key"]
    async with websockets.connect(live.ws_url(room["links"]["websocket"]), open_timeout=10) as ws:
        update = await subscribed(ws)
        assert update["type"] == "room_update"
        assert update["content"]["id"] == "observed" and update["content"]["shutdown"] is False
        assert [p["name"] for p in update["content"]["participants"]] == ["Jane"]
        live.call("POST", f"rooms/{ak}/messages", 201, data={"type": "chat", "content": "hello"})
        chat = await event(ws)
        assert chat["type"] == "chat" and chat["content"] == "hello" and chat["user_id"] == room["user"]["id"]
        live.call("POST", f"rooms/{ak}/layout", data={"layout": "custom", "users[]": ["", room["user"]["id"]]})
        kinds = [(await event(ws))["type"] for _ in range(2)]
        assert sorted(kinds) == ["options_update", "podium_update"]
        live.call("DELETE", "rooms/observed", 204, key=True)
        ended = await event(ws)
        assert ended["type"] == "room_update" and ended["content"]["shutdown"] is True
        assert await frame(ws) == {"type": "disconnect", "reason": "meeting_ended", "reconnect": False}


async def test_team_observes_by_room_id_with_the_key(live: LiveEyeson) -> None:
    live.room("Jane", id="standup")
    url = f"{live.ws_url(live.base)}rt?room_id=standup"
    async with websockets.connect(url, additional_headers={"Authorization": live.key}, open_timeout=10) as ws:
        assert (await subscribed(ws))["content"]["id"] == "standup"
    async with websockets.connect(f"{url}&api_key={live.key}", open_timeout=10) as ws:
        assert (await subscribed(ws))["type"] == "room_update"
    async with websockets.connect(url, additional_headers={"Authorization": "wrong"}, open_timeout=10) as ws:
        assert await frame(ws) == {"type": "disconnect", "reason": "unauthorized", "reconnect": False}


async def test_unknown_channel_is_rejected(live: LiveEyeson) -> None:
    room = live.room()
    async with websockets.connect(live.ws_url(room["links"]["websocket"]), open_timeout=10) as ws:
        assert await frame(ws) == {"type": "welcome"}
        identifier = json.dumps({"channel": "NoSuchChannel"})
        await ws.send(json.dumps({"command": "subscribe", "identifier": identifier}))
        assert await frame(ws) == {"identifier": identifier, "type": "reject_subscription"}
