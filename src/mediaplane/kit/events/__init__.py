"""Events between tasks and processes: an in-process bus (embedded) or Redis pub/sub (scale-out).

    events = create_event_bus(settings.redis_url)
    async with events.subscribe("some.channel") as sub:
        async for message in sub:      # dicts, in publish order
            ...
    await events.publish("some.channel", {"progress": 50})
    await events.close()

``subscribe`` returns a :class:`Subscription`, an async context manager: subscribed on entry,
unsubscribed on exit, so nothing leaks when the consumer stops early. Delivery is best-effort
(at most once, only while subscribed); each subscription has a bounded queue that drops its
oldest message rather than slow down publishers.
"""

from __future__ import annotations

from mediaplane.kit.events.base import (
    DEFAULT_MAX_QUEUE,
    EventBus,
    EventBusClosed,
    EventBusError,
    EventBusUnavailable,
    InvalidMessage,
    Subscription,
)
from mediaplane.kit.events.memory import InMemoryEventBus
from mediaplane.kit.events.redis_bus import RedisEventBus

__all__ = [
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


def create_event_bus(redis_url: str | None, *, max_queue: int = DEFAULT_MAX_QUEUE) -> EventBus:
    """Redis pub/sub when a URL is given, else the in-process bus. Connects lazily, on first use."""
    if redis_url:
        return RedisEventBus(redis_url, max_queue=max_queue)
    return InMemoryEventBus(max_queue=max_queue)
