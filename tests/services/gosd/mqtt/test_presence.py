"""Node presence: the watcher stores each node's status and `online`, and queues node.online/node.offline
webhooks on real transitions only (one per transition, however many processes watch)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import pytest

from mediaplane.config import Settings
from mediaplane.core.runtime import Runtime
from mediaplane.kit.mqtt import EmbeddedBroker
from mediaplane.services.gosd import spec as gosd_spec
from mediaplane.services.gosd.background import BROKER_KEY, PRESENCE_KEY, gosd_background
from mediaplane.services.gosd.models import GosdNode
from mediaplane.services.gosd.mqtt.authority import GosdAuthority
from mediaplane.services.gosd.mqtt.client import cloud_client
from mediaplane.services.gosd.mqtt.presence import PresenceWatcher, parse_status, record_status
from mediaplane.services.gosd.mqtt.settings import Topics
from tests.fixtures.servers import listening
from tests.services.gosd.conftest import Gosd
from tests.services.gosd.mqtt.conftest import add_node, eventually, kill, node_client, status, webhooks


async def node_row(runtime: Runtime, node_id: int) -> GosdNode:
    async with runtime.db.session() as session:
        node = await session.get(GosdNode, node_id)
    assert node is not None
    return node


async def kinds(runtime: Runtime) -> list[tuple[str, int]]:
    return [(body["type"], body["node"]["id"]) for body in await webhooks(runtime)]


def test_parse_status() -> None:
    assert parse_status(b'{"code":0,"msg":"online"}') == {"code": 0, "msg": "online"}
    for bad in (b"online", b"[]", b'{"msg":"x"}', b'{"code":"0"}', b'{"code":true}', b"\xff"):
        assert parse_status(bad) is None


@pytest.mark.usefixtures("background")
class TestWatcher:
    async def test_online_then_will_offline(self, settings: Settings, runtime: Runtime, fleet: Gosd) -> None:
        node = await add_node(fleet)
        topics = Topics(settings.mqtt_topic_prefix)
        agent = node_client(settings, node)
        await agent.__aenter__()
        await agent.publish(topics.status(node.id), status(0), qos=1, retain=True)

        async def online() -> bool:
            return (await node_row(runtime, node.id)).online

        assert await eventually(online)
        row = await node_row(runtime, node.id)
        assert row.status is not None and row.status["code"] == 0 and row.seen_at is not None
        listed = await fleet.ok("GET", "/api/v1/nodes/")
        assert [(n["online"], n["status"]["msg"]) for n in listed] == [(True, "online")]
        bodies = await webhooks(runtime)
        assert [b["type"] for b in bodies] == ["node.online"]
        assert bodies[0]["node"] == {"id": node.id, "name": node.name, "status": row.status}
        assert bodies[0]["instance"] == fleet.instance["name"]

        await kill(agent)  # no DISCONNECT: the broker publishes the node's will

        async def offline() -> bool:
            return not (await node_row(runtime, node.id)).online

        assert await eventually(offline)
        assert (await node_row(runtime, node.id)).status["msg"] == "offline"  # type: ignore[index]
        assert await kinds(runtime) == [("node.online", node.id), ("node.offline", node.id)]
        shown = await fleet.ok("GET", f"/api/v1/nodes/{node.id}")
        assert (shown["online"], shown["status"]["code"]) == (False, 1)

    async def test_same_state_again_updates_status_without_webhook(
        self, settings: Settings, runtime: Runtime, fleet: Gosd
    ) -> None:
        node = await add_node(fleet)
        topics = Topics(settings.mqtt_topic_prefix)
        async with node_client(settings, node, will=False) as agent:
            await agent.publish(topics.status(node.id), status(0), qos=1, retain=True)
            await agent.publish(topics.status(node.id), status(0, "still here"), qos=1, retain=True)

            async def latest() -> bool:
                row = await node_row(runtime, node.id)
                return row.status is not None and row.status["msg"] == "still here"

            assert await eventually(latest)
        assert await kinds(runtime) == [("node.online", node.id)]

    async def test_a_node_offline_from_the_start_sends_nothing(
        self, settings: Settings, runtime: Runtime, fleet: Gosd
    ) -> None:
        node = await add_node(fleet)
        topics = Topics(settings.mqtt_topic_prefix)
        async with node_client(settings, node, will=False) as agent:
            await agent.publish(topics.status(node.id), status(1), qos=1, retain=True)

            async def seen() -> bool:
                return (await node_row(runtime, node.id)).seen_at is not None

            assert await eventually(seen)
        assert not (await node_row(runtime, node.id)).online
        assert await webhooks(runtime) == []

    async def test_bad_payloads_and_unknown_nodes_ignored(
        self, settings: Settings, runtime: Runtime, fleet: Gosd, caplog: pytest.LogCaptureFixture
    ) -> None:
        node = await add_node(fleet)
        topics = Topics(settings.mqtt_topic_prefix)
        caplog.set_level(logging.WARNING, "mediaplane.services.gosd.mqtt.presence")
        async with cloud_client(settings, "test") as cloud, node_client(settings, node, will=False) as agent:
            await cloud.publish(topics.status(2_000_000_000), status(0), qos=1)
            await cloud.publish(topics.status(99_999_999_999), status(0), qos=1)
            await agent.publish(topics.status(node.id), b"online!", qos=1)
            await agent.publish(topics.status(node.id), b'{"code": "zero"}', qos=1)
            await agent.publish(topics.status(node.id), status(0), qos=1)

            async def online() -> bool:
                return (await node_row(runtime, node.id)).online

            assert await eventually(online)
        assert await kinds(runtime) == [("node.online", node.id)]
        warned = [r for r in caplog.records if f"node {node.id} sent a status" in r.getMessage()]
        assert len(warned) == 1
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []

    async def test_watcher_reconnects_when_the_broker_comes_back(
        self, settings: Settings, runtime: Runtime, fleet: Gosd, background: PresenceWatcher
    ) -> None:
        node = await add_node(fleet)
        broker = runtime.extras[BROKER_KEY]
        assert isinstance(broker, EmbeddedBroker)
        await broker.stop()
        await asyncio.sleep(0.2)
        assert not background.connected.is_set()
        await broker.start()
        await asyncio.wait_for(background.connected.wait(), 10)
        async with node_client(settings, node, will=False) as agent:
            await agent.publish(Topics(settings.mqtt_topic_prefix).status(node.id), status(0), qos=1, retain=True)

            async def online() -> bool:
                return (await node_row(runtime, node.id)).online

            assert await eventually(online)


class TestProcesses:
    async def test_two_watchers_emit_each_transition_once(
        self, settings: Settings, runtime: Runtime, fleet: Gosd, background: PresenceWatcher
    ) -> None:
        other = PresenceWatcher(runtime)  # as a second API process would run
        task = asyncio.create_task(other.run())
        try:
            await asyncio.wait_for(other.connected.wait(), 10)
            nodes = [await add_node(fleet, f"N{i}") for i in range(3)]
            topics = Topics(settings.mqtt_topic_prefix)
            agents = [node_client(settings, n) for n in nodes]
            for node, agent in zip(nodes, agents, strict=True):
                await agent.__aenter__()
                await agent.publish(topics.status(node.id), status(0), qos=1, retain=True)
            for agent in agents:
                await kill(agent)

            async def all_offline_announced() -> list[tuple[str, int]]:
                got = await kinds(runtime)
                return got if len([k for k in got if k[0] == "node.offline"]) == 3 else []

            await eventually(all_offline_announced)
            await asyncio.sleep(0.3)  # time for a duplicate, if there were one
            got = await kinds(runtime)
            assert sorted(got) == sorted(
                [("node.online", n.id) for n in nodes] + [("node.offline", n.id) for n in nodes]
            )
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def test_new_broker_marks_nodes_offline(self, runtime: Runtime, fleet: Gosd) -> None:
        node = await add_node(fleet)
        assert await record_status(runtime, node.id, {"code": 0, "msg": "online"}) is True
        assert await record_status(runtime, 2_000_000_000, {"code": 0}) is None
        async with gosd_background(runtime):
            assert not (await node_row(runtime, node.id)).online
        assert await kinds(runtime) == [("node.online", node.id), ("node.offline", node.id)]

    async def test_stop_leaves_no_port_nor_task(self, settings: Settings, runtime: Runtime) -> None:
        before = asyncio.all_tasks()
        assert gosd_spec.background is not None  # what the app's lifespan enters
        async with gosd_spec.background(runtime):
            watcher: Any = runtime.extras[PRESENCE_KEY]
            await asyncio.wait_for(watcher.connected.wait(), 10)
            assert listening(settings.mqtt_port) and BROKER_KEY in runtime.extras
        assert not listening(settings.mqtt_port)
        assert PRESENCE_KEY not in runtime.extras and BROKER_KEY not in runtime.extras
        assert [t for t in asyncio.all_tasks() - before if not t.done()] == []

    async def test_port_taken_uses_the_broker_there(self, settings: Settings, runtime: Runtime) -> None:
        other = EmbeddedBroker("127.0.0.1", settings.mqtt_port, GosdAuthority(runtime))
        async with other, gosd_background(runtime):
            watcher: Any = runtime.extras[PRESENCE_KEY]
            await asyncio.wait_for(watcher.connected.wait(), 10)
            assert BROKER_KEY not in runtime.extras

    @pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
    async def test_nothing_without_mqtt(self, runtime: Runtime) -> None:
        runtime.settings.mqtt_enabled = False
        async with gosd_background(runtime):
            assert PRESENCE_KEY not in runtime.extras and not listening(runtime.settings.mqtt_port)
