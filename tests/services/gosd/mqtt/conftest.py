"""gosd over MQTT: settings with the embedded broker on a free port and a topic prefix of the test's own, the
serving process's background (broker + presence watcher), and nodes played by plain aiomqtt clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiomqtt
import httpx
import pytest
from sqlalchemy import select

from mediaplane.config import Settings
from mediaplane.core.runtime import Runtime
from mediaplane.kit.jobs.models import JobRecord
from mediaplane.services.gosd.background import BROKER_KEY, PRESENCE_KEY, gosd_background
from mediaplane.services.gosd.mqtt import rpc
from mediaplane.services.gosd.mqtt.presence import PresenceWatcher
from mediaplane.services.gosd.mqtt.settings import Topics, cloud_address
from tests.conftest import make_settings
from tests.fixtures.factories import Factory
from tests.fixtures.servers import free_port
from tests.services.gosd.conftest import OPTIONS, Gosd, make_gosd

WEBHOOK_URL = "http://127.0.0.1:9/gosd-hooks"  # never called: no workers run, the queued jobs are read


def mqtt_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "mqtt_enabled": True,
        "mqtt_host": "127.0.0.1",
        "mqtt_port": free_port(),
        "mqtt_topic_prefix": f"test-{uuid.uuid4().hex[:8]}/",
    }
    values.update(overrides)
    return make_settings(tmp_path / "data", database_url, **values)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return mqtt_settings(tmp_path, database_url)


@pytest.fixture
async def background(runtime: Runtime) -> AsyncIterator[PresenceWatcher]:
    """What `serve` runs for gosd, until the test ends."""
    async with gosd_background(runtime):
        # Its own broker: were the port taken by another process meanwhile, the test would talk to that one.
        assert runtime.extras.get(BROKER_KEY) is not None or runtime.settings.mqtt_url, "the broker did not start"
        watcher = runtime.extras[PRESENCE_KEY]
        assert isinstance(watcher, PresenceWatcher)
        await asyncio.wait_for(watcher.connected.wait(), 10)
        yield watcher


@pytest.fixture
async def fleet(factory: Factory, client: httpx.AsyncClient, runtime: Runtime) -> Gosd:
    made = await make_gosd(factory, client, runtime, **OPTIONS, webhookUrl=WEBHOOK_URL)
    made.token = await made.login()
    return made


@dataclass
class Node:
    id: int
    secret: str
    name: str


async def add_node(fleet: Gosd, name: str = "Drone", type_name: str = "air") -> Node:
    node = await fleet.node(name, type_name)
    secret = await fleet.ok("POST", f"/api/v1/nodes/{node['id']}/secret")
    return Node(node["id"], secret["secret"], name)


def status(code: int, msg: str = "") -> bytes:
    body = {"code": code, "msg": msg or ("online" if code == 0 else "offline"), "timestamp": str(int(time.time()))}
    body["status"] = {"type": "drone", "lat": "22.5", "lng": "113.9", "alt": "0"}
    return json.dumps(body).encode()


def node_client(settings: Settings, node: Node, secret: str | None = None, *, will: bool = True) -> aiomqtt.Client:
    """A node agent as gosd's ncp connects: user = node id, password = secret, will = offline status."""
    topics = Topics(settings.mqtt_topic_prefix)
    address = cloud_address(settings)
    return aiomqtt.Client(
        address.host,
        address.port,
        username=str(node.id),
        password=node.secret if secret is None else secret,
        identifier=f"node-{node.id}-{uuid.uuid4().hex[:6]}",
        will=aiomqtt.Will(topics.status(node.id), status(1), qos=1, retain=True) if will else None,
        timeout=5,
    )


async def next_message(c: aiomqtt.Client, seconds: float = 5) -> aiomqtt.Message:
    return await asyncio.wait_for(anext(aiter(c.messages)), seconds)


async def kill(c: aiomqtt.Client) -> None:
    """Ends the node's TCP connection without DISCONNECT (a crash, a lost link) and collects its error."""
    sock = c._client.socket()
    assert sock is not None
    sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
        await next_message(c)


async def webhooks(runtime: Runtime) -> list[dict[str, Any]]:
    """The bodies of the queued gosd.webhook jobs, oldest first."""
    async with runtime.db.session() as session:
        rows = await session.scalars(
            select(JobRecord).where(JobRecord.name == "gosd.webhook").order_by(JobRecord.created_at)
        )
        return [row.args["body"] for row in rows]


async def eventually(check: Any, seconds: float = 5) -> Any:
    """Polls the async `check()` until it returns something truthy (or `seconds` pass)."""
    deadline = time.monotonic() + seconds
    while True:
        value = await check()
        if value or time.monotonic() > deadline:
            return value
        await asyncio.sleep(0.05)


Handler = Callable[[dict[str, Any]], list[bytes]]


class FakeNode:
    """A node agent in the test: online status (will: offline), and `handler(request)` gives the payloads to
    publish on rpc/recv for each request it receives (none, one, or several)."""

    def __init__(self, settings: Settings, node: Node, handler: Handler | None = None) -> None:
        self.settings = settings
        self.node = node
        self.topics = Topics(settings.mqtt_topic_prefix)
        self.handler = handler or (lambda request: [rpc.result(request.get("id"), request.get("params"))])
        self.requests: list[dict[str, Any]] = []
        self.client = node_client(settings, node)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> FakeNode:
        await self.client.__aenter__()
        await self.client.subscribe(self.topics.rpc_send(self.node.id), qos=1)
        await self.client.publish(self.topics.status(self.node.id), status(0), qos=1, retain=True)
        self._task = asyncio.create_task(self._serve())
        return self

    async def _serve(self) -> None:
        with contextlib.suppress(aiomqtt.MqttError):
            async for message in self.client.messages:
                request = json.loads(message.payload)  # type: ignore[arg-type]
                self.requests.append(request)
                for answer in self.handler(request):
                    await self.client.publish(self.topics.rpc_recv(self.node.id), answer, qos=1)

    async def publish(self, leaf: str, payload: bytes, retain: bool = False) -> None:
        await self.client.publish(self.topics.node(self.node.id, leaf), payload, qos=1, retain=retain)

    async def kill(self) -> None:
        await self.stop_serving()
        await kill(self.client)

    async def stop_serving(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_serving()
        with contextlib.suppress(aiomqtt.MqttError):
            await self.client.__aexit__(None, None, None)
