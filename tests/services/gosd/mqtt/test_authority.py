"""The embedded broker as serve runs it: who may connect (the platform, each node with its secret) and
which topics a node may use (only its own)."""

from __future__ import annotations

import aiomqtt
import pytest

from mediaplane.config import Settings
from mediaplane.services.gosd.mqtt.authority import node_id_of
from mediaplane.services.gosd.mqtt.client import cloud_client
from mediaplane.services.gosd.mqtt.settings import CLOUD_USER, Topics, cloud_address
from tests.services.gosd.conftest import Gosd
from tests.services.gosd.mqtt.conftest import add_node, next_message, node_client, status


def granted(codes: object) -> list[bool]:
    return [getattr(code, "value", code) < 0x80 for code in codes]  # type: ignore[attr-defined]


async def refused(c: aiomqtt.Client) -> None:
    with pytest.raises(aiomqtt.MqttCodeError, match="Not authorized"):
        async with c:
            pass


def test_node_id_of_usernames() -> None:
    assert [node_id_of(u) for u in ("7", "2147483647")] == [7, 2147483647]
    assert [node_id_of(u) for u in ("07", "0", "-1", "1e3", "\u0661", "2147483648", "99999999999", "")] == [None] * 8


@pytest.mark.usefixtures("background")
class TestConnect:
    async def test_platform_connects(self, settings: Settings) -> None:
        async with cloud_client(settings, "test"):
            pass

    async def test_platform_with_another_password_refused(self, settings: Settings) -> None:
        address = cloud_address(settings)
        await refused(aiomqtt.Client(address.host, address.port, username=CLOUD_USER, password="guess", timeout=5))

    async def test_node_with_its_secret(self, settings: Settings, fleet: Gosd) -> None:
        node = await add_node(fleet)
        async with node_client(settings, node):
            pass

    async def test_node_with_wrong_secret_or_none(self, settings: Settings, fleet: Gosd) -> None:
        node = await add_node(fleet)
        await refused(node_client(settings, node, "x" + node.secret[1:]))
        await refused(node_client(settings, node, ""))

    async def test_anonymous_refused(self, settings: Settings) -> None:
        address = cloud_address(settings)
        await refused(aiomqtt.Client(address.host, address.port, timeout=5))

    async def test_deleted_node_refused(self, settings: Settings, fleet: Gosd) -> None:
        node = await add_node(fleet)
        await fleet.ok("DELETE", f"/api/v1/nodes/{node.id}")
        await refused(node_client(settings, node))

    async def test_rotated_secret_replaces_the_old_one(self, settings: Settings, fleet: Gosd) -> None:
        node = await add_node(fleet)
        new = (await fleet.ok("POST", f"/api/v1/nodes/{node.id}/secret"))["secret"]
        await refused(node_client(settings, node))
        async with node_client(settings, node, new):
            pass

    async def test_node_without_secret_refused(self, settings: Settings, fleet: Gosd) -> None:
        created = await fleet.node("Depot", "depot")
        for password in ("", "anything"):
            await refused(
                aiomqtt.Client(
                    "127.0.0.1", settings.mqtt_port, username=str(created["id"]), password=password, timeout=5
                )
            )


@pytest.mark.usefixtures("background")
class TestTopics:
    async def test_node_uses_only_its_own_topics(self, settings: Settings, fleet: Gosd) -> None:
        a, b = await add_node(fleet, "A"), await add_node(fleet, "B")
        topics = Topics(settings.mqtt_topic_prefix)
        async with node_client(settings, a) as node_a:
            filters = [
                topics.rpc_send(b.id),
                f"{settings.mqtt_topic_prefix}nodes/#",
                "#",
                topics.status("+"),
                f"{settings.mqtt_topic_prefix}nodes/{a.id}/#",
                topics.rpc_send(a.id),
            ]
            codes = await node_a.subscribe([(f, 1) for f in filters])
            assert granted(codes) == [False, False, False, False, True, True]

    async def test_node_cannot_fake_another_status(self, settings: Settings, fleet: Gosd) -> None:
        a, b = await add_node(fleet, "A"), await add_node(fleet, "B")
        topics = Topics(settings.mqtt_topic_prefix)
        async with cloud_client(settings, "test") as cloud:
            await cloud.subscribe(topics.status("+"), qos=1)
            async with node_client(settings, a) as node_a:
                await node_a.publish(topics.status(b.id), status(0, "fake"), qos=1, retain=True)
                await node_a.publish(topics.status(a.id), status(0), qos=1, retain=True)
                message = await next_message(cloud)
                assert message.topic.value == topics.status(a.id)

    async def test_node_gets_its_requests_only(self, settings: Settings, fleet: Gosd) -> None:
        a, b = await add_node(fleet, "A"), await add_node(fleet, "B")
        topics = Topics(settings.mqtt_topic_prefix)
        async with cloud_client(settings, "test") as cloud, node_client(settings, a) as node_a:
            await node_a.subscribe(topics.rpc_send(a.id), qos=1)
            await cloud.publish(topics.rpc_send(b.id), b"for b", qos=1)
            await cloud.publish(topics.rpc_send(a.id), b"for a", qos=1)
            assert (await next_message(node_a)).payload == b"for a"
