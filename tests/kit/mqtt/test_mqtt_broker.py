"""kit.mqtt: the embedded broker with real aiomqtt clients over TCP on 127.0.0.1.

The authority here: user `admin` may do anything, users `1` and `2` only `dev/<their id>/…`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator

import aiomqtt
import pytest
from tests.fixtures.servers import listening

from mediaplane.kit.mqtt import Action, EmbeddedBroker, Principal, allowed_by_roots, within

PASSWORDS = {"admin": "admin-pw", "1": "one-pw", "2": "two-pw"}


class Devices:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str]] = []

    async def authenticate(self, client_id: str, username: str, password: str) -> Principal | None:
        self.asked.append((client_id, username))
        if PASSWORDS.get(username) != password:
            return None
        return Principal(username) if username == "admin" else Principal(username, (f"dev/{username}/",))

    def allowed(self, principal: Principal, action: Action, topic: str) -> bool:
        return allowed_by_roots(principal, topic)


@pytest.fixture
async def broker() -> AsyncIterator[EmbeddedBroker]:
    async with EmbeddedBroker("127.0.0.1", 0, Devices()) as running:
        yield running


def client(broker: EmbeddedBroker, user: str | None, password: str | None = None, **kwargs: object) -> aiomqtt.Client:
    if user is not None and password is None:
        password = PASSWORDS[user]
    return aiomqtt.Client("127.0.0.1", broker.port, username=user, password=password, timeout=5, **kwargs)  # type: ignore[arg-type]


async def next_message(c: aiomqtt.Client, seconds: float = 3) -> aiomqtt.Message:
    return await asyncio.wait_for(anext(aiter(c.messages)), seconds)


async def nothing_for(c: aiomqtt.Client, seconds: float = 0.5) -> None:
    with contextlib.suppress(TimeoutError):
        message = await next_message(c, seconds)
        raise AssertionError(f"unexpected message on {message.topic}: {message.payload!r}")


async def kill(c: aiomqtt.Client) -> None:
    """Ends the TCP connection without DISCONNECT, as a process that dies, and collects the client's error."""
    sock = c._client.socket()
    assert sock is not None
    sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(aiomqtt.MqttError):
        await next_message(c, 5)


def broker_code(task: asyncio.Task[object]) -> bool:
    code = getattr(task.get_coro(), "cr_code", None)
    filename = code.co_filename if code is not None else ""
    return "/amqtt/" in filename or "/kit/mqtt/" in filename


def granted(codes: object) -> list[bool]:
    return [getattr(code, "value", code) < 0x80 for code in codes]  # type: ignore[attr-defined]


class TestWithin:
    def test_only_below_the_root(self) -> None:
        assert within("dev/1/status", "dev/1/")
        assert within("dev/1/#", "dev/1/")
        assert within("dev/1/+/x", "dev/1/")
        assert not within("dev/1", "dev/1/")
        assert not within("dev/1/", "dev/1/")
        assert not within("dev/12/status", "dev/1/")
        assert not within("dev/+/status", "dev/1/")
        assert not within("#", "dev/1/")
        assert not within("dev/1/x", "dev/+/")  # a root with a wildcard holds nothing


class TestConnect:
    async def test_known_users_connect(self, broker: EmbeddedBroker) -> None:
        async with client(broker, "admin"), client(broker, "1"):
            pass

    async def test_wrong_password_refused(self, broker: EmbeddedBroker) -> None:
        with pytest.raises(aiomqtt.MqttCodeError, match="Not authorized"):
            async with client(broker, "1", "two-pw"):
                pass

    async def test_anonymous_refused_without_asking_the_authority(self, broker: EmbeddedBroker) -> None:
        with pytest.raises(aiomqtt.MqttCodeError, match="Not authorized"):
            async with client(broker, None):
                pass
        assert isinstance(broker.authority, Devices)
        assert broker.authority.asked == []

    async def test_client_id_of_another_user_refused_and_holder_kept(self, broker: EmbeddedBroker) -> None:
        async with client(broker, "admin", identifier="cloud") as admin:
            await admin.subscribe("dev/+/status")
            for user, password in (("1", "one-pw"), ("1", "wrong")):
                with pytest.raises(aiomqtt.MqttCodeError):
                    async with client(broker, user, password, identifier="cloud"):
                        pass
            # The holder is still connected and subscribed.
            async with client(broker, "1") as one:
                await one.publish("dev/1/status", b"up", qos=1)
            assert (await next_message(admin)).payload == b"up"

    async def test_same_client_id_again_ends_the_first_connection(self, broker: EmbeddedBroker) -> None:
        async with client(broker, "admin") as admin:
            await admin.subscribe("dev/1/status", qos=1)
            will = aiomqtt.Will("dev/1/status", b"down", qos=1, retain=True)
            first = client(broker, "1", identifier="dev-1", will=will)
            await first.__aenter__()
            async with client(broker, "1", identifier="dev-1") as second:
                assert (await next_message(admin)).payload == b"down"  # the first one's will, at once
                with contextlib.suppress(aiomqtt.MqttError):
                    await next_message(first)
                await second.publish("dev/1/status", b"up", qos=1, retain=True)
                assert (await next_message(admin)).payload == b"up"

    async def test_will_on_a_foreign_topic_refused(self, broker: EmbeddedBroker) -> None:
        with pytest.raises(aiomqtt.MqttCodeError, match="Not authorized"):
            async with client(broker, "1", will=aiomqtt.Will("dev/2/status", b"down", retain=True)):
                pass

    async def test_connection_without_connect_closed(
        self, broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr("mediaplane.kit.mqtt.broker.CONNECT_TIMEOUT", 0.3)
        reader, writer = await asyncio.open_connection("127.0.0.1", broker.port)
        try:
            assert await asyncio.wait_for(reader.read(10), 3) == b""
        finally:
            writer.close()


class TestTopics:
    async def test_device_subscribes_only_below_its_root(self, broker: EmbeddedBroker) -> None:
        async with client(broker, "1") as one:
            filters = ["dev/2/rpc/send", "dev/+/status", "dev/#", "#", "+/1/status", "dev/1", "dev/1/#"]
            codes = await one.subscribe([(f, 1) for f in filters])
            assert granted(codes) == [False, False, False, False, False, False, True]

    async def test_device_cannot_publish_for_another(self, broker: EmbeddedBroker) -> None:
        async with client(broker, "admin") as admin:
            await admin.subscribe("dev/#", qos=1)
            async with client(broker, "1") as one:
                await one.publish("dev/2/status", b"fake", qos=1, retain=True)
                await one.publish("dev/1/status", b"mine", qos=1, retain=True)
            message = await next_message(admin)
            assert (message.topic.value, message.payload) == ("dev/1/status", b"mine")
            await nothing_for(admin)
        async with client(broker, "admin") as late:  # and nothing of the fake was retained
            await late.subscribe("dev/2/#")
            await nothing_for(late)

    async def test_device_receives_only_its_topics(self, broker: EmbeddedBroker) -> None:
        async with client(broker, "admin") as admin, client(broker, "2") as two:
            await two.subscribe("dev/2/#", qos=1)
            await admin.publish("dev/1/rpc/send", b"for one", qos=1)
            await admin.publish("dev/2/rpc/send", b"for two", qos=1)
            message = await next_message(two)
            assert (message.topic.value, message.payload) == ("dev/2/rpc/send", b"for two")
            await nothing_for(two)

    async def test_retained_messages_only_where_allowed(self, broker: EmbeddedBroker) -> None:
        async with client(broker, "admin", identifier="cloud") as admin:
            await admin.subscribe("dev/+/status", qos=1)  # amqtt replays every client's filters on connect
            await admin.publish("dev/1/status", b"one up", qos=1, retain=True)
            await admin.publish("dev/2/status", b"two up", qos=1, retain=True)
            async with client(broker, "2") as two:
                await nothing_for(two, 0.3)
                await two.subscribe("dev/2/#", qos=1)
                message = await next_message(two)
                assert (message.topic.value, message.payload, message.retain) == ("dev/2/status", b"two up", True)
                await nothing_for(two)
            async with client(broker, "admin") as other:
                await other.subscribe("dev/+/status", qos=1)
                got = {(await next_message(other)).payload for _ in range(2)}
                assert got == {b"one up", b"two up"}


class TestWill:
    async def test_killed_client_leaves_its_retained_will(self, broker: EmbeddedBroker) -> None:
        async with client(broker, "admin") as admin:
            await admin.subscribe("dev/1/status", qos=1)
            one = client(broker, "1", will=aiomqtt.Will("dev/1/status", b"down", qos=1, retain=True))
            await one.__aenter__()
            await one.publish("dev/1/status", b"up", qos=1, retain=True)
            assert (await next_message(admin)).payload == b"up"
            await kill(one)
            assert (await next_message(admin)).payload == b"down"
        async with client(broker, "admin") as late:
            await late.subscribe("dev/1/status")
            message = await next_message(late)
            assert (message.payload, message.retain) == (b"down", True)

    async def test_clean_disconnect_sends_no_will(self, broker: EmbeddedBroker) -> None:
        async with client(broker, "admin") as admin:
            await admin.subscribe("dev/1/status", qos=1)
            async with client(broker, "1", will=aiomqtt.Will("dev/1/status", b"down", qos=1, retain=True)):
                pass
            await nothing_for(admin)


class TestLifecycle:
    async def test_stop_closes_connections_port_and_tasks(self) -> None:
        before = asyncio.all_tasks()
        broker = EmbeddedBroker("127.0.0.1", 0, Devices())
        await broker.start()
        port = broker.port
        assert port > 0 and listening(port)
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", port)  # never sends CONNECT
        connected = client(broker, "1")
        await connected.__aenter__()
        await broker.stop()
        assert await asyncio.wait_for(idle_reader.read(10), 3) == b""
        idle_writer.close()
        with contextlib.suppress(aiomqtt.MqttError):
            await next_message(connected, 5)
        assert not listening(port)
        assert [t for t in asyncio.all_tasks() - before if broker_code(t)] == []
        # The same port can be taken again at once.
        again = EmbeddedBroker("127.0.0.1", port, Devices())
        await again.start()
        await again.stop()

    async def test_port_taken_is_an_os_error(self, broker: EmbeddedBroker) -> None:
        with pytest.raises(OSError, match="cannot listen"):
            await EmbeddedBroker("127.0.0.1", broker.port, Devices()).start()
