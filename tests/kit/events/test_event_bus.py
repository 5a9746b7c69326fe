from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import uuid4

import pytest
import redis.asyncio as aioredis

from mediaplane.kit.events import (
    EventBus,
    EventBusClosed,
    EventBusUnavailable,
    InMemoryEventBus,
    InvalidMessage,
    RedisEventBus,
    Subscription,
    create_event_bus,
)

TIMEOUT = 5.0
BusFactory = Callable[..., Awaitable[EventBus]]


def channel() -> str:
    return f"test.{uuid4().hex}"


async def receive(sub: Subscription) -> dict[str, Any]:
    return await asyncio.wait_for(anext(sub), TIMEOUT)


async def nothing_more(sub: Subscription, wait: float = 0.1) -> bool:
    try:
        await asyncio.wait_for(anext(sub), wait)
    except TimeoutError:
        return True
    return False


class TestPublishSubscribe:
    async def test_subscriber_receives_in_order(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        name = channel()
        async with bus.subscribe(name) as sub:
            for i in range(5):
                await bus.publish(name, {"n": i, "nested": {"list": [1, "two", None]}})
            assert [await receive(sub) for _ in range(5)] == [
                {"n": i, "nested": {"list": [1, "two", None]}} for i in range(5)
            ]

    async def test_fan_out_to_every_subscriber(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        name = channel()
        async with bus.subscribe(name) as first, bus.subscribe(name) as second:
            assert bus.subscriber_count(name) == 2
            await bus.publish(name, {"hello": "all"})
            one, two = await receive(first), await receive(second)
            assert one == two == {"hello": "all"}
            one["changed"] = True
            assert "changed" not in two  # each subscriber has its own copy

    async def test_channels_are_separate(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        a, b = channel(), channel()
        async with bus.subscribe(a) as sub:
            await bus.publish(b, {"for": "b"})
            await bus.publish(a, {"for": "a"})
            assert await receive(sub) == {"for": "a"}
            assert await nothing_more(sub)

    async def test_publish_without_subscribers(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        await bus.publish(channel(), {"nobody": "listens"})

    @pytest.mark.parametrize("message", [["not", "a", "dict"], {"bad": object()}, {"nan": float("nan")}])
    async def test_only_json_objects(self, make_bus: BusFactory, message: Any) -> None:
        bus = await make_bus()
        with pytest.raises(InvalidMessage):
            await bus.publish(channel(), message)

    @pytest.mark.parametrize("name", ["", "a\nb"])
    async def test_bad_channel_names(self, make_bus: BusFactory, name: str) -> None:
        bus = await make_bus()
        with pytest.raises(ValueError):
            bus.subscribe(name)
        with pytest.raises(ValueError):
            await bus.publish(name, {})


class TestSubscriptionLifecycle:
    async def test_unsubscribes_on_exit(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        name = channel()
        async with bus.subscribe(name) as sub:
            assert bus.subscriber_count(name) == 1
        assert bus.subscriber_count(name) == 0
        await bus.publish(name, {"after": "exit"})
        with pytest.raises(StopAsyncIteration):
            await receive(sub)

    async def test_unsubscribes_when_the_consumer_fails(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        name = channel()
        with pytest.raises(RuntimeError, match="consumer failed"):
            async with bus.subscribe(name):
                raise RuntimeError("consumer failed")
        assert bus.subscriber_count(name) == 0

    async def test_unsubscribes_when_the_consumer_is_cancelled(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        name = channel()
        entered = asyncio.Event()

        async def consume() -> None:
            async with bus.subscribe(name) as sub:
                entered.set()
                async for _ in sub:
                    pass

        task = asyncio.create_task(consume())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert bus.subscriber_count(name) == 0

    async def test_must_be_entered(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        sub = bus.subscribe(channel())
        with pytest.raises(RuntimeError, match="async with"):
            await anext(sub)
        async with sub:
            pass
        with pytest.raises(RuntimeError, match="only once"):
            async with sub:
                pass

    async def test_close_ends_subscriptions(self, make_bus: BusFactory) -> None:
        bus = await make_bus()
        name = channel()
        received: list[dict[str, Any]] = []
        got_one = asyncio.Event()

        async def consume(sub: Subscription) -> None:
            async for message in sub:
                received.append(message)
                got_one.set()

        async with bus.subscribe(name) as sub:
            task = asyncio.create_task(consume(sub))
            await bus.publish(name, {"last": True})
            await asyncio.wait_for(got_one.wait(), TIMEOUT)
            await bus.close()
            await asyncio.wait_for(task, TIMEOUT)  # the loop ended by itself
        assert received == [{"last": True}]
        with pytest.raises(EventBusClosed):
            await bus.publish(name, {})
        with pytest.raises(EventBusClosed):
            bus.subscribe(name)
        await bus.close()  # closing twice is fine


class TestSlowSubscriber:
    async def test_drops_oldest_and_never_blocks_the_publisher(self, make_bus: BusFactory) -> None:
        bus = await make_bus(max_queue=3)
        name = channel()
        async with bus.subscribe(name) as slow, bus.subscribe(name) as fast:
            for i in range(10):
                await asyncio.wait_for(bus.publish(name, {"n": i}), TIMEOUT)
                assert await receive(fast) == {"n": i}
            # Redis delivers asynchronously: wait until the last message reached the slow queue.
            async with bus.subscribe(name) as marker:
                await bus.publish(name, {"n": 10})
                await receive(marker)
            assert slow.dropped == 8
            assert [await receive(slow) for _ in range(3)] == [{"n": 8}, {"n": 9}, {"n": 10}]
            assert fast.dropped == 0


class TestAcrossProcesses:
    async def test_two_buses_see_each_other(self, make_redis_bus: BusFactory) -> None:
        api, worker = await make_redis_bus(), await make_redis_bus()
        name = channel()
        async with api.subscribe(name) as on_api, worker.subscribe(name) as on_worker:
            await worker.publish(name, {"from": "worker", "progress": 50})
            await api.publish(name, {"from": "api"})
            assert [await receive(on_api), await receive(on_api)] == [
                {"from": "worker", "progress": 50},
                {"from": "api"},
            ]
            assert [await receive(on_worker), await receive(on_worker)] == [
                {"from": "worker", "progress": 50},
                {"from": "api"},
            ]

    async def test_redis_is_unsubscribed_when_the_last_subscriber_leaves(
        self, make_redis_bus: BusFactory, redis_url: str
    ) -> None:
        bus = await make_redis_bus()
        name = channel()
        observer = aioredis.Redis.from_url(redis_url)
        try:

            async def subscribers() -> int:
                counts = await observer.pubsub_numsub(name)
                return int(counts[0][1])

            async with bus.subscribe(name):
                async with bus.subscribe(name):
                    assert await subscribers() == 1  # one connection serves both
                assert await subscribers() == 1
            for _ in range(100):
                if await subscribers() == 0:
                    break
                await asyncio.sleep(0.01)
            assert await subscribers() == 0
            # Subscribing again after a full unsubscribe works.
            async with bus.subscribe(name) as sub:
                await observer.publish(name, b'{"again": true}')
                assert await receive(sub) == {"again": True}
        finally:
            await observer.aclose()

    async def test_many_subscribe_cycles_on_one_channel(self, make_redis_bus: BusFactory) -> None:
        bus, other = await make_redis_bus(), await make_redis_bus()
        name = channel()
        for i in range(20):
            async with bus.subscribe(name) as sub:
                await other.publish(name, {"i": i})
                assert await receive(sub) == {"i": i}

    async def test_concurrent_subscribers_on_a_new_channel(self, make_redis_bus: BusFactory) -> None:
        bus, other = await make_redis_bus(), await make_redis_bus()
        name = channel()
        subs = [bus.subscribe(name) for _ in range(5)]
        await asyncio.gather(*(sub.__aenter__() for sub in subs))
        try:
            await other.publish(name, {"to": "all"})
            assert [await receive(sub) for sub in subs] == [{"to": "all"}] * 5
        finally:
            for sub in subs:
                await sub.aclose()
        assert bus.subscriber_count(name) == 0

    async def test_non_json_from_elsewhere_is_ignored(self, make_redis_bus: BusFactory, redis_url: str) -> None:
        bus = await make_redis_bus()
        name = channel()
        observer = aioredis.Redis.from_url(redis_url)
        try:
            async with bus.subscribe(name) as sub:
                await observer.publish(name, b"not json")
                await observer.publish(name, b'{"ok": 1}')
                assert await receive(sub) == {"ok": 1}
        finally:
            await observer.aclose()

    async def test_unreachable_redis(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        bus = RedisEventBus(f"redis://127.0.0.1:{port}/0")
        try:
            with pytest.raises(EventBusUnavailable):
                await bus.publish(channel(), {"x": 1})
            with pytest.raises(EventBusUnavailable):
                async with bus.subscribe(channel()):
                    pass
            assert bus.subscriber_count("x") == 0
        finally:
            await bus.close()


class TestCreateEventBus:
    async def test_in_memory_without_url(self) -> None:
        bus = create_event_bus(None)
        assert isinstance(bus, InMemoryEventBus)
        await bus.close()

    async def test_redis_with_url(self, redis_url: str) -> None:
        bus = create_event_bus(redis_url)
        try:
            assert isinstance(bus, RedisEventBus)
            await bus.ping()
        finally:
            await bus.close()


def test_public_api() -> None:
    import mediaplane.kit.events as events

    assert sorted(events.__all__) == [
        "EventBus",
        "EventBusClosed",
        "EventBusError",
        "EventBusUnavailable",
        "InMemoryEventBus",
        "InvalidMessage",
        "RedisEventBus",
        "Subscription",
        "create_event_bus",
    ]
    assert all(hasattr(events, name) for name in events.__all__)
