"""kit.cable: the ActionCable wire protocol, over a real server on 127.0.0.1 and a real websocket client."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import uuid4

import httpx
import pytest
from fastapi import FastAPI, Request, WebSocket
from tests.fixtures.servers import serve_in_thread
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from mediaplane.kit.cable import (
    DEFAULT_PING_INTERVAL,
    UNSUPPORTED_PROTOCOL,
    CableConnection,
    Message,
    Source,
    negotiate,
    refuse,
)
from mediaplane.kit.events import InMemoryEventBus

TIMEOUT = 5.0
RAILS = ["actioncable-v1-json", "actioncable-unsupported"]  # what @rails/actioncable and @anycable/core offer
API_KEY = "key-0123456789"


class World:
    """What the server thread records, for the tests to look at."""

    def __init__(self) -> None:
        self.bus = InMemoryEventBus()
        self.connections: dict[str, CableConnection] = {}
        self.performed: list[tuple[str, dict[str, Any], str, dict[str, Any]]] = []
        self.entered: list[str] = []
        self.exited: list[str] = []
        self.finished: list[str] = []


def build_app(world: World) -> FastAPI:
    app = FastAPI()

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.post("/publish")
    async def publish(request: Request) -> None:
        """Publishes [[channel, message], ...] back to back, in one go."""
        for channel, message in await request.json():
            await world.bus.publish(channel, message)

    @app.post("/disconnect/{name}")
    async def disconnect(name: str, reason: str, reconnect: bool = False) -> None:
        await world.connections[name].disconnect(reason, reconnect=reconnect)

    @app.get("/tasks")
    async def tasks() -> list[str]:
        """The names of the cable's tasks still alive in the server."""
        return sorted(t.get_name() for t in asyncio.all_tasks() if t.get_name().startswith("cable"))

    @app.websocket("/refuse")
    async def refused(websocket: WebSocket) -> None:
        await refuse(websocket)

    @app.websocket("/cable")
    async def cable(websocket: WebSocket) -> None:
        name = websocket.query_params.get("name", "")
        ping = float(websocket.query_params.get("ping", "60"))

        @asynccontextmanager
        async def tracked(channel: str) -> AsyncIterator[AsyncIterator[Message]]:
            world.entered.append(channel)
            try:
                async with world.bus.subscribe(channel) as subscription:
                    yield subscription
            finally:
                world.exited.append(channel)

        @asynccontextmanager
        async def finite() -> AsyncIterator[AsyncIterator[Message]]:
            async def two() -> AsyncIterator[Message]:
                yield {"n": 1}
                yield {"n": 2}

            yield two()

        @asynccontextmanager
        async def generated(channel: str) -> AsyncIterator[AsyncIterator[Message]]:
            async def relay(subscription: AsyncIterator[Message]) -> AsyncIterator[Message]:
                try:
                    yield {"first": True}
                    async for message in subscription:
                        yield message
                finally:
                    world.exited.append(f"generator {channel}")

            async with tracked(channel) as subscription:
                yield relay(subscription)

        def subscribe(identifier: dict[str, Any]) -> Source | None:  # a plain function is a hook too
            channel = identifier.get("channel")
            if channel == "Generated":
                return generated(f"{name}:{channel}:")
            if channel == "Rejected":
                return None
            if channel == "Broken":
                raise RuntimeError("the hook fails")
            if channel == "Finite":
                return finite()
            return tracked(f"{name}:{channel}:{identifier.get('room', '')}")

        async def perform(identifier: dict[str, Any], action: str, data: dict[str, Any]) -> None:
            world.performed.append((name, identifier, action, data))
            if action == "echo":
                await connection.transmit(identifier, {"echo": data})
            if action == "fail":
                raise RuntimeError("the perform hook fails")

        connection = CableConnection(
            websocket, subscribe=subscribe, perform=perform, extra_subprotocols=[API_KEY], ping_interval=ping
        )
        world.connections[name] = connection
        try:
            await connection.run()
        finally:
            world.finished.append(name)

    return app


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, World]]:
    world = World()
    with serve_in_thread(build_app(world)) as url:
        yield url, world


@pytest.fixture
def url(server: tuple[str, World]) -> str:
    return server[0]


@pytest.fixture
def world(server: tuple[str, World]) -> World:
    return server[1]


def ws_url(url: str, path: str = "/cable", **query: Any) -> str:
    base = url.replace("http://", "ws://") + path
    return base + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@asynccontextmanager
async def cable(
    url: str, name: str, *, subprotocols: list[str] | None = RAILS, ping: float = 60
) -> AsyncIterator[ClientConnection]:
    async with connect(ws_url(url, name=name, ping=ping), subprotocols=subprotocols) as ws:  # type: ignore[arg-type]
        assert await receive(ws) == {"type": "welcome"}
        yield ws


async def receive(ws: ClientConnection) -> dict[str, Any]:
    """The next frame that is not a ping."""
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
        if frame.get("type") != "ping":
            return frame  # type: ignore[no-any-return]


async def closed(ws: ClientConnection) -> bool:
    try:
        await asyncio.wait_for(ws.recv(), TIMEOUT)
    except ConnectionClosed:
        return True
    return False


async def subscribe(ws: ClientConnection, identifier: str) -> dict[str, Any]:
    await ws.send(json.dumps({"command": "subscribe", "identifier": identifier}))
    return await receive(ws)


async def publish(url: str, *messages: tuple[str, Message]) -> None:
    async with httpx.AsyncClient() as client:
        response = await client.post(f"{url}/publish", json=[list(m) for m in messages])
        assert response.status_code == 200


async def eventually(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def ident(channel: str, room: str = "") -> str:
    return json.dumps({"channel": channel, "room": room})


def new_name() -> str:
    return uuid4().hex[:12]


class TestWelcome:
    async def test_welcome_is_the_first_frame(self, url: str) -> None:
        async with connect(ws_url(url, name=new_name()), subprotocols=RAILS) as ws:  # type: ignore[arg-type]
            assert json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT)) == {"type": "welcome"}


class TestSubscribe:
    async def test_confirm_echoes_the_identifier_string_exactly(self, url: str, world: World) -> None:
        name = new_name()
        identifier = '{ "room" : "r1",\n "channel":"RoomChannel" }'  # odd spacing and key order, kept verbatim
        async with cable(url, name) as ws:
            assert await subscribe(ws, identifier) == {"identifier": identifier, "type": "confirm_subscription"}
            await publish(url, (f"{name}:RoomChannel:r1", {"type": "room_update", "content": {"id": "r1"}}))
            assert await receive(ws) == {
                "identifier": identifier,
                "message": {"type": "room_update", "content": {"id": "r1"}},
            }
            assert world.connections[name].identifiers == [identifier]

    async def test_messages_arrive_in_order(self, url: str) -> None:
        name = new_name()
        async with cable(url, name) as ws:
            await subscribe(ws, ident("RoomChannel", "r"))
            await publish(url, *[(f"{name}:RoomChannel:r", {"n": i}) for i in range(20)])
            assert [(await receive(ws))["message"]["n"] for _ in range(20)] == list(range(20))

    async def test_subscriptions_interleave_in_arrival_order(self, url: str) -> None:
        name = new_name()
        room, user = ident("RoomChannel", "r"), ident("UserChannel", "u")
        async with cable(url, name) as ws:
            await subscribe(ws, room)
            await subscribe(ws, user)
            await publish(
                url,
                (f"{name}:RoomChannel:r", {"n": 1}),
                (f"{name}:UserChannel:u", {"n": 2}),
                (f"{name}:RoomChannel:r", {"n": 3}),
                (f"{name}:UserChannel:u", {"n": 4}),
            )
            frames = [await receive(ws) for _ in range(4)]
            assert [(f["identifier"], f["message"]["n"]) for f in frames] == [
                (room, 1),
                (user, 2),
                (room, 3),
                (user, 4),
            ]

    async def test_resubscribing_confirms_again_and_streams_once(self, url: str, world: World) -> None:
        name = new_name()
        room = ident("RoomChannel", "again")
        async with cable(url, name) as ws:
            assert (await subscribe(ws, room))["type"] == "confirm_subscription"
            assert (await subscribe(ws, room))["type"] == "confirm_subscription"
            assert world.entered.count(f"{name}:RoomChannel:again") == 1
            await publish(url, (f"{name}:RoomChannel:again", {"n": 1}), (f"{name}:RoomChannel:again", {"n": 2}))
            assert [(await receive(ws))["message"] for _ in range(2)] == [{"n": 1}, {"n": 2}]

    async def test_a_source_that_ends_ends_its_subscription(self, url: str, world: World) -> None:
        name = new_name()
        identifier = ident("Finite")
        async with cable(url, name) as ws:
            assert (await subscribe(ws, identifier))["type"] == "confirm_subscription"
            assert [(await receive(ws))["message"] for _ in range(2)] == [{"n": 1}, {"n": 2}]
            await eventually(lambda: world.connections[name].identifiers == [], "the subscription to end")
            assert (await subscribe(ws, identifier))["type"] == "confirm_subscription"  # a fresh one
            assert (await receive(ws))["message"] == {"n": 1}


class TestReject:
    @pytest.mark.parametrize("channel", ["Rejected", "Broken"])
    async def test_hook_rejects(self, url: str, world: World, channel: str) -> None:
        name = new_name()
        identifier = ident(channel)
        async with cable(url, name) as ws:
            assert await subscribe(ws, identifier) == {"identifier": identifier, "type": "reject_subscription"}
            assert world.connections[name].identifiers == []
            # the connection goes on
            assert (await subscribe(ws, ident("RoomChannel")))["type"] == "confirm_subscription"

    async def test_identifier_that_is_not_a_json_object(self, url: str) -> None:
        async with cable(url, new_name()) as ws:
            for identifier in ("not json", '"RoomChannel"', "[1]"):
                assert await subscribe(ws, identifier) == {"identifier": identifier, "type": "reject_subscription"}


class TestUnsubscribe:
    async def test_unsubscribe_stops_the_stream(self, url: str, world: World) -> None:
        name = new_name()
        room, user = ident("RoomChannel", "r"), ident("UserChannel", "u")
        async with cable(url, name) as ws:
            await subscribe(ws, room)
            await subscribe(ws, user)
            await ws.send(json.dumps({"command": "unsubscribe", "identifier": room}))
            await eventually(lambda: f"{name}:RoomChannel:r" in world.exited, "the room source to be exited")
            assert world.bus.subscriber_count(f"{name}:RoomChannel:r") == 0
            assert world.connections[name].identifiers == [user]
            await publish(url, (f"{name}:RoomChannel:r", {"n": 1}), (f"{name}:UserChannel:u", {"n": 2}))
            assert await receive(ws) == {"identifier": user, "message": {"n": 2}}  # nothing for the room

    async def test_a_generator_source_is_closed_before_its_context(self, url: str, world: World) -> None:
        name = new_name()
        identifier = ident("Generated")
        async with cable(url, name) as ws:
            await subscribe(ws, identifier)
            assert (await receive(ws))["message"] == {"first": True}
            await publish(url, (f"{name}:Generated:", {"n": 1}))
            assert (await receive(ws))["message"] == {"n": 1}
            await ws.send(json.dumps({"command": "unsubscribe", "identifier": identifier}))
            channel = f"{name}:Generated:"
            await eventually(lambda: channel in world.exited, "the source to be exited")
            mine = [e for e in world.exited if name in e]
            assert mine == [f"generator {channel}", channel]

    async def test_unsubscribe_unknown_is_ignored(self, url: str) -> None:
        async with cable(url, new_name()) as ws:
            await ws.send(json.dumps({"command": "unsubscribe", "identifier": ident("Nothing")}))
            assert (await subscribe(ws, ident("RoomChannel")))["type"] == "confirm_subscription"


class TestPerform:
    async def test_perform_hook_gets_identifier_action_data(self, url: str, world: World) -> None:
        name = new_name()
        room = ident("RoomChannel", "r")
        async with cable(url, name) as ws:
            await subscribe(ws, room)
            data = json.dumps({"action": "user_joins", "user": "u1"})
            await ws.send(json.dumps({"command": "message", "identifier": room, "data": data}))
            await eventually(lambda: any(p[0] == name for p in world.performed), "the perform hook")
            assert [p for p in world.performed if p[0] == name] == [
                (name, {"channel": "RoomChannel", "room": "r"}, "user_joins", {"action": "user_joins", "user": "u1"})
            ]

    async def test_perform_can_transmit_to_its_subscription(self, url: str) -> None:
        room = ident("RoomChannel", "r")
        async with cable(url, new_name()) as ws:
            await subscribe(ws, room)
            data = json.dumps({"action": "echo", "text": "hi"})
            await ws.send(json.dumps({"command": "message", "identifier": room, "data": data}))
            assert await receive(ws) == {"identifier": room, "message": {"echo": {"action": "echo", "text": "hi"}}}

    async def test_without_action_is_receive(self, url: str, world: World) -> None:
        name = new_name()
        room = ident("RoomChannel")
        async with cable(url, name) as ws:
            await subscribe(ws, room)
            await ws.send(json.dumps({"command": "message", "identifier": room, "data": '{"x":1}'}))
            await eventually(lambda: any(p[0] == name for p in world.performed), "the perform hook")
            assert [p[2:] for p in world.performed if p[0] == name] == [("receive", {"x": 1})]

    async def test_not_subscribed_or_failing_is_ignored(self, url: str, world: World) -> None:
        name = new_name()
        room = ident("RoomChannel")
        async with cable(url, name) as ws:
            await ws.send(json.dumps({"command": "message", "identifier": room, "data": '{"action":"early"}'}))
            await subscribe(ws, room)
            for action in ("fail", "echo"):
                data = json.dumps({"action": action})
                await ws.send(json.dumps({"command": "message", "identifier": room, "data": data}))
            assert await receive(ws) == {"identifier": room, "message": {"echo": {"action": "echo"}}}
            assert [p[2] for p in world.performed if p[0] == name] == ["fail", "echo"]


class TestPing:
    def test_default_interval_is_three_seconds(self) -> None:
        assert DEFAULT_PING_INTERVAL == 3.0

    async def test_pings_at_the_interval_with_unix_seconds(self, url: str) -> None:
        async with connect(ws_url(url, name=new_name(), ping=0.2), subprotocols=RAILS) as ws:  # type: ignore[arg-type]
            assert json.loads(await ws.recv()) == {"type": "welcome"}
            start = time.monotonic()
            times = []
            for _ in range(3):
                frame = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
                times.append(time.monotonic() - start)
                assert frame["type"] == "ping"
                assert isinstance(frame["message"], int)
                assert abs(frame["message"] - time.time()) < 3
            gaps = [b - a for a, b in zip([0.0, *times], times, strict=False)]
            # about the interval: the first after one interval, three in about three (a loaded machine may
            # delay one, so the middle gap is the one held to the interval)
            assert times[0] > 0.15, times
            assert 0.5 < times[2] < 3.0, times
            assert 0.1 < sorted(gaps)[1] < 0.6, gaps


class TestSubprotocols:
    @pytest.mark.parametrize(
        ("offered", "chosen"),
        [
            (["actioncable-v1-json", "actioncable-unsupported"], "actioncable-v1-json"),
            (["actioncable-v1.1-json", "actioncable-v1-json", "actioncable-unsupported"], "actioncable-v1.1-json"),
            (None, None),  # actioncable-go offers none
            ([API_KEY], API_KEY),  # a browser with the key as its subprotocol
            (["actioncable-v1-json", API_KEY], "actioncable-v1-json"),
        ],
    )
    async def test_accepted(self, url: str, offered: list[str] | None, chosen: str | None) -> None:
        async with cable(url, new_name(), subprotocols=offered) as ws:
            assert ws.subprotocol == chosen
            assert (await subscribe(ws, ident("RoomChannel")))["type"] == "confirm_subscription"

    async def test_unknown_gets_unsupported_and_is_closed(self, url: str, world: World) -> None:
        name = new_name()
        offered = ["actioncable-v9-msgpack", "actioncable-unsupported"]
        async with connect(ws_url(url, name=name), subprotocols=offered) as ws:  # type: ignore[arg-type]
            assert ws.subprotocol == UNSUPPORTED_PROTOCOL
            assert await closed(ws)  # no welcome
            assert ws.close_code == 1002
        await eventually(lambda: name in world.finished, "the connection to end")

    @pytest.mark.parametrize("offered", [["other"], ["wrong-key"]])  # only the caller's key is taken
    async def test_only_unknown_is_closed(self, url: str, offered: list[str]) -> None:
        async with connect(ws_url(url, name=new_name()), subprotocols=offered) as ws:  # type: ignore[arg-type]
            assert ws.subprotocol is None
            assert await closed(ws)

    def test_negotiate(self) -> None:
        assert negotiate([]) == (None, True)
        assert negotiate(["x", "actioncable-v1-json"]) == ("actioncable-v1-json", True)
        assert negotiate(["k"], ["k"]) == ("k", True)
        assert negotiate(["x", "actioncable-unsupported"]) == ("actioncable-unsupported", False)
        assert negotiate(["x"]) == (None, False)


class TestDisconnect:
    async def test_server_disconnect_sends_the_frame_and_closes(self, url: str, world: World) -> None:
        name = new_name()
        async with cable(url, name) as ws:
            await subscribe(ws, ident("RoomChannel", "d"))
            async with httpx.AsyncClient() as client:
                response = await client.post(f"{url}/disconnect/{name}", params={"reason": "server_restart"})
                assert response.status_code == 200
            assert await receive(ws) == {"type": "disconnect", "reason": "server_restart", "reconnect": False}
            assert await closed(ws)
        await eventually(lambda: name in world.finished, "run() to return")
        assert f"{name}:RoomChannel:d" in world.exited
        assert world.bus.subscriber_count(f"{name}:RoomChannel:d") == 0

    async def test_refuse(self, url: str) -> None:
        async with connect(ws_url(url, "/refuse"), subprotocols=RAILS) as ws:  # type: ignore[arg-type]
            assert json.loads(await ws.recv()) == {"type": "disconnect", "reason": "unauthorized", "reconnect": False}
            assert await closed(ws)


class TestRobustness:
    async def test_malformed_frames_are_ignored(self, url: str, world: World) -> None:
        name = new_name()
        async with cable(url, name) as ws:
            for frame in (
                "not json",
                "[1, 2]",
                '"text"',
                "{}",
                '{"command": "dance", "identifier": "{}"}',
                '{"command": "subscribe"}',
                '{"command": "subscribe", "identifier": {"channel": "RoomChannel"}}',
                '{"command": "message", "identifier": "{\\"channel\\":\\"RoomChannel\\"}", "data": "not json"}',
            ):
                await ws.send(frame)
            await ws.send(b"\x00\x01binary")
            assert await subscribe(ws, ident("RoomChannel")) == {
                "identifier": ident("RoomChannel"),
                "type": "confirm_subscription",
            }
            assert name not in world.finished

    async def test_client_close_ends_everything(self, url: str, world: World) -> None:
        name = new_name()
        async with cable(url, name) as ws:
            await subscribe(ws, ident("RoomChannel", "r"))
            await subscribe(ws, ident("UserChannel", "u"))
            async with httpx.AsyncClient() as client:
                alive = (await client.get(f"{url}/tasks")).json()
            assert {"cable reader", "cable pings", "cable stream"} <= set(alive)
        await eventually(lambda: name in world.finished, "run() to return")
        for channel in (f"{name}:RoomChannel:r", f"{name}:UserChannel:u"):
            assert channel in world.exited
            assert world.bus.subscriber_count(channel) == 0
        assert world.connections[name].closed
        assert world.connections[name].identifiers == []
        async with httpx.AsyncClient() as client:
            for _ in range(100):  # earlier tests' connections may still be winding down
                alive = (await client.get(f"{url}/tasks")).json()
                if not alive:
                    break
                await asyncio.sleep(0.05)
            assert alive == []
