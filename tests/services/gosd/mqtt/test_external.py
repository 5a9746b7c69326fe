"""The same presence and NodeLink through an external broker: the system Mosquitto at 127.0.0.1:1883
(settings.mqtt_url), with a topic prefix of the test's own. Skipped when it is not there, failed under CI."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mediaplane.config import Settings
from mediaplane.core.runtime import Runtime
from mediaplane.services.gosd.background import BROKER_KEY, PRESENCE_KEY, gosd_background
from mediaplane.services.gosd.models import GosdNode
from mediaplane.services.gosd.mqtt import rpc
from mediaplane.services.gosd.mqtt.client import cloud_client
from mediaplane.services.gosd.mqtt.link import open_link
from mediaplane.services.gosd.mqtt.presence import PresenceWatcher
from mediaplane.services.gosd.mqtt.settings import Topics
from tests.fixtures.required import require_or_skip
from tests.services.gosd.conftest import Gosd
from tests.services.gosd.mqtt.conftest import FakeNode, Node, add_node, eventually, mqtt_settings, webhooks

MOSQUITTO = ("127.0.0.1", 1883)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    try:
        with contextlib.closing(socket.create_connection(MOSQUITTO, timeout=2)):
            pass
    except OSError as exc:
        require_or_skip("Mosquitto at 127.0.0.1:1883", exc)
    return mqtt_settings(tmp_path, database_url, mqtt_url="mqtt://127.0.0.1:1883")


@pytest.fixture
async def node(settings: Settings, fleet: Gosd) -> AsyncIterator[Node]:
    made = await add_node(fleet)
    yield made
    async with cloud_client(settings, "test-cleanup") as cloud:  # the broker outlives the test: no retained left
        await cloud.publish(Topics(settings.mqtt_topic_prefix).status(made.id), b"", qos=1, retain=True)


def second_try_answered(agent: list[FakeNode]) -> Any:
    def handler(request: dict[str, Any]) -> list[bytes]:
        return [] if len(agent[0].requests) == 1 else [rpc.result(request["id"], request["params"])]

    return handler


async def test_presence_and_link(settings: Settings, runtime: Runtime, node: Node) -> None:
    async with gosd_background(runtime):
        assert BROKER_KEY not in runtime.extras  # an external broker: none is started
        watcher = runtime.extras[PRESENCE_KEY]
        assert isinstance(watcher, PresenceWatcher)
        await asyncio.wait_for(watcher.connected.wait(), 10)
        async with open_link(settings, [node.id]) as link:
            link.first_resend = 0.2
            holder: list[FakeNode] = []
            async with FakeNode(settings, node, second_try_answered(holder)) as agent:
                holder.append(agent)
                assert await link.wait_online(node.id, 5)
                assert await link.call(node.id, "takeoff", {"alt": 20}, timeout=5) == {"alt": 20}
                assert len(agent.requests) == 2
                await agent.kill()
                await asyncio.wait_for(link.went_offline(node.id).wait(), 5)

        async def offline_announced() -> bool:
            return [b["type"] for b in await webhooks(runtime)] == ["node.online", "node.offline"]

        assert await eventually(offline_announced)
    async with runtime.db.session() as session:
        row = await session.get(GosdNode, node.id)
    assert row is not None and not row.online and row.status is not None and row.status["code"] == 1
