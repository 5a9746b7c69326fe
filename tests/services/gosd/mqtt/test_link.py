"""NodeLink, what a running job uses: JSON-RPC calls to a node (played by an aiomqtt client here) with
gosd's resends, and the node's status, network and messages. On the embedded broker, SQLite only (the
database only holds the nodes' secrets here)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from mediaplane.config import Settings
from mediaplane.core.runtime import Runtime
from mediaplane.kit.mqtt import EmbeddedBroker
from mediaplane.services.gosd.background import BROKER_KEY
from mediaplane.services.gosd.mqtt import rpc
from mediaplane.services.gosd.mqtt.link import LinkUnavailable, NodeLink, open_link
from mediaplane.services.gosd.mqtt.rpc import TIMEOUT_CODE, RpcFailed
from tests.fixtures.databases import SqliteTemplate
from tests.fixtures.servers import free_port
from tests.services.gosd.conftest import Gosd
from tests.services.gosd.mqtt.conftest import FakeNode, Node, add_node

pytestmark = pytest.mark.usefixtures("background")


@pytest.fixture
def database_url(sqlite_template: SqliteTemplate, tmp_path: Path) -> str:
    return sqlite_template.fresh(tmp_path)


@pytest.fixture
async def node(fleet: Gosd) -> Node:
    return await add_node(fleet)


@pytest.fixture
async def link(settings: Settings, node: Node) -> AsyncIterator[NodeLink]:
    async with open_link(settings, [node.id]) as opened:
        opened.first_resend = 0.2
        yield opened


class TestCall:
    async def test_result(self, settings: Settings, node: Node, link: NodeLink) -> None:
        async with FakeNode(settings, node) as agent:
            assert await link.call(node.id, "goto", {"lat": 1.5, "lng": 2}) == {"lat": 1.5, "lng": 2}
        [request] = agent.requests
        assert request["jsonrpc"] == "2.0" and request["method"] == "goto"
        assert request["id"].startswith("gosd.0-")

    async def test_error_is_rpc_failed(self, settings: Settings, node: Node, link: NodeLink) -> None:
        def refuse(request: dict[str, Any]) -> list[bytes]:
            return [rpc.error(request["id"], -32601, "Method not found", {"method": request["method"]})]

        async with FakeNode(settings, node, refuse):
            with pytest.raises(RpcFailed) as failed:
                await link.call(node.id, "fly_away")
        assert (failed.value.code, failed.value.message, failed.value.data) == (
            -32601,
            "Method not found",
            {"method": "fly_away"},
        )

    async def test_resent_when_the_first_is_lost(self, settings: Settings, node: Node, link: NodeLink) -> None:
        def second_only(request: dict[str, Any]) -> list[bytes]:
            return [rpc.result(request["id"], "landed")] if len(agent.requests) > 1 else []

        async with FakeNode(settings, node, second_only) as agent:
            assert await link.call(node.id, "land", timeout=5) == "landed"
        assert len(agent.requests) == 2 and agent.requests[0] == agent.requests[1]

    async def test_duplicate_and_unknown_answers(self, settings: Settings, node: Node, link: NodeLink) -> None:
        def noisy(request: dict[str, Any]) -> list[bytes]:
            return [
                b"not json",
                json.dumps([1, "x"]).encode(),
                rpc.result("gosd.0-1-999999", "someone else's"),
                rpc.result(request["id"], f"first {request['method']}"),
                rpc.result(request["id"], "again"),
            ]

        async with FakeNode(settings, node, noisy):
            assert await link.call(node.id, "a") == "first a"
            assert await link.call(node.id, "b") == "first b"

    async def test_timeout(self, settings: Settings, node: Node, link: NodeLink) -> None:
        async with FakeNode(settings, node, lambda request: []) as agent:
            with pytest.raises(RpcFailed) as failed:
                await link.call(node.id, "takeoff", timeout=0.7)
        assert (failed.value.code, failed.value.message) == (TIMEOUT_CODE, "timeout")
        assert len(agent.requests) >= 2  # sent at 0 and again after 0.2 s (then 0.4 s)

    async def test_notify_has_no_id(self, settings: Settings, node: Node, link: NodeLink) -> None:
        async with FakeNode(settings, node, lambda request: []) as agent:
            await link.notify(node.id, "cancel", {"job_id": 3})
            for _ in range(100):
                if agent.requests:
                    break
                await asyncio.sleep(0.02)
        assert agent.requests == [{"jsonrpc": "2.0", "method": "cancel", "params": {"job_id": 3}}]

    async def test_node_watched_later(self, settings: Settings, node: Node) -> None:
        async with open_link(settings, []) as link, FakeNode(settings, node):
            assert await link.call(node.id, "ping", [1], timeout=5) == [1]
            assert await link.wait_online(node.id, 5)  # its retained status came with the subscription


class TestState:
    async def test_retained_status_then_telemetry(self, settings: Settings, node: Node) -> None:
        async with FakeNode(settings, node) as agent:
            await agent.publish("network", b'{"loss": 0, "delay": 12}', retain=True)
            await agent.publish("msg/battery", b'{"percent": 80}', retain=True)
            async with open_link(settings, [node.id]) as link:
                assert await link.wait_online(node.id, 5)
                assert link.status(node.id)["code"] == 0  # type: ignore[index]
                for _ in range(100):
                    if link.network(node.id) and link.message(node.id, "battery"):
                        break
                    await asyncio.sleep(0.02)
                assert link.network(node.id) == {"loss": 0, "delay": 12}
                assert link.message(node.id, "battery") == {"percent": 80}
                waiting = asyncio.create_task(link.wait_message(node.id, "position", 5))
                await asyncio.sleep(0.1)
                await agent.publish("msg/position", b'{"lat": 22.5}')
                assert await waiting == {"lat": 22.5}
                assert link.message(node.id, "position") == {"lat": 22.5}
                await agent.publish("msg/notification", b"plain text")
                assert await link.wait_message(node.id, "nothing", 0.2) is None
                assert link.message(node.id, "notification") == "plain text"

    async def test_will_sets_went_offline(self, settings: Settings, node: Node, link: NodeLink) -> None:
        async with FakeNode(settings, node) as agent:
            assert await link.wait_online(node.id, 5)
            offline = link.went_offline(node.id)
            assert not offline.is_set()
            await agent.kill()
            await asyncio.wait_for(offline.wait(), 5)
        assert not link.online(node.id)
        assert link.status(node.id)["code"] == 1  # type: ignore[index]

    async def test_not_online_in_time(self, node: Node, link: NodeLink) -> None:
        assert not await link.wait_online(node.id, 0.2)
        assert link.status(node.id) is None and not link.online(node.id)


class TestConnection:
    async def test_broker_unreachable_at_open(self, settings: Settings, node: Node) -> None:
        elsewhere = settings.model_copy(update={"mqtt_port": free_port()})
        with pytest.raises(LinkUnavailable):
            async with open_link(elsewhere, [node.id]):
                pass

    async def test_reconnects_after_the_broker_restarts(
        self, settings: Settings, runtime: Runtime, node: Node, link: NodeLink
    ) -> None:
        broker = runtime.extras[BROKER_KEY]
        assert isinstance(broker, EmbeddedBroker)
        async with FakeNode(settings, node) as agent:
            assert await link.call(node.id, "ping") is None
        await broker.stop()
        await broker.start()
        async with FakeNode(settings, node) as agent:
            assert await link.call(node.id, "ping", {"n": 2}, timeout=15) == {"n": 2}
            assert await link.wait_online(node.id, 5)
        assert agent.requests[-1]["params"] == {"n": 2}
