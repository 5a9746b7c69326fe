"""The event bus interface, its subscriptions, and the local fan-out both backends share.

Events are best-effort notifications (progress, state changes) between tasks and processes: a
subscriber gets the messages published while it is subscribed, and nothing older. Work that must
not be lost goes through durable jobs, not through the bus.
"""

from __future__ import annotations

import asyncio
import json
import logging
from abc import ABC, abstractmethod
from types import TracebackType
from typing import Any, Literal

from mediaplane.kit.errors import BadRequest, MediaplaneError, Unavailable

__all__ = [
    "DEFAULT_MAX_QUEUE",
    "EventBus",
    "EventBusClosed",
    "EventBusError",
    "EventBusUnavailable",
    "InvalidMessage",
    "Subscription",
]

log = logging.getLogger(__name__)

DEFAULT_MAX_QUEUE = 1000
Message = dict[str, Any]


class EventBusError(MediaplaneError):
    code = "event_bus_error"


class InvalidMessage(EventBusError, BadRequest):
    """The message is not a JSON object (a dict of JSON values)."""

    code = "invalid_message"


class EventBusClosed(EventBusError):
    code = "event_bus_closed"


class EventBusUnavailable(EventBusError, Unavailable):
    """The broker behind the bus cannot be reached."""

    code = "event_bus_unavailable"


def encode(message: Message) -> str:
    if not isinstance(message, dict):
        raise InvalidMessage(f"a message is a dict, not {type(message).__name__}")
    try:
        return json.dumps(message, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise InvalidMessage(f"the message is not JSON-serialisable: {exc}") from exc


def check_channel(channel: str) -> str:
    if not isinstance(channel, str) or not channel or any(ord(c) < 0x20 for c in channel):
        raise ValueError(f"a channel is a non-empty string without control characters, not {channel!r}")
    return channel


class Subscription:
    """One subscriber's bounded queue on one channel: an async context manager and an async iterator.

        async with bus.subscribe("jobs.42") as sub:   # subscribed when the block starts
            async for message in sub:                  # ends when the bus closes
                ...
        # unsubscribed here, whatever happened in the block

    Messages published after ``__aenter__`` returns are delivered, in order. When the queue is full
    the oldest message is dropped and counted in :attr:`dropped`, so a slow subscriber never holds
    up a publisher. A subscription can be entered once.
    """

    def __init__(self, bus: EventBus, channel: str, max_queue: int) -> None:
        self.channel = channel
        self.dropped = 0
        self._bus = bus
        self._max_queue = max_queue
        self._queue: asyncio.Queue[Message | None] | None = None
        self._state: Literal["new", "open", "ended"] = "new"
        self._finished = False

    def __repr__(self) -> str:
        return f"<Subscription {self.channel!r} {self._state} dropped={self.dropped}>"

    async def __aenter__(self) -> Subscription:
        if self._state != "new":
            raise RuntimeError("a subscription can be entered only once")
        self._queue = asyncio.Queue(self._max_queue)
        self._state = "open"
        try:
            await self._bus._attach(self)
        except BaseException:
            self._state = "ended"
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Unsubscribe now; iteration ends after the messages already queued."""
        if self._state == "open":
            self._end()
            await self._bus._detach(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        if self._queue is None:
            raise RuntimeError("enter the subscription first: async with bus.subscribe(channel) as sub")
        if self._finished:
            raise StopAsyncIteration
        message = await self._queue.get()
        if message is None:
            self._finished = True
            raise StopAsyncIteration
        return message

    def _deliver(self, message: Message) -> None:
        """Queue a message without ever waiting: when full, drop the oldest."""
        if self._state != "open" or self._queue is None:
            return
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("slow subscriber on %r: %d messages dropped", self.channel, self.dropped)
        self._queue.put_nowait(message)

    def _end(self) -> None:
        """Stop receiving and wake the reader with the end marker."""
        if self._state != "open" or self._queue is None:
            self._state = "ended"
            return
        self._state = "ended"
        if self._queue.full():
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(None)


class EventBus(ABC):
    """Publish JSON-object messages on named channels; every current subscriber of a channel gets each one."""

    def __init__(self, *, max_queue: int = DEFAULT_MAX_QUEUE) -> None:
        if max_queue < 1:
            raise ValueError("max_queue must be at least 1")
        self.max_queue = max_queue
        self._subscribers: dict[str, set[Subscription]] = {}
        self._closed = False

    @abstractmethod
    async def publish(self, channel: str, message: Message) -> None:
        """Send ``message`` to the channel's subscribers (in this process and, for Redis, every other)."""

    def subscribe(self, channel: str) -> Subscription:
        """A subscription to ``channel``; it takes effect when entered with ``async with``."""
        if self._closed:
            raise EventBusClosed("the event bus is closed")
        return Subscription(self, check_channel(channel), self.max_queue)

    def subscriber_count(self, channel: str) -> int:
        """How many subscriptions in this process are open on ``channel``."""
        return len(self._subscribers.get(channel, ()))

    async def close(self) -> None:
        """End every subscription and release connections; publishing afterwards raises EventBusClosed."""
        self._closed = True
        for subscribers in list(self._subscribers.values()):
            for subscription in list(subscribers):
                subscription._end()
        self._subscribers.clear()

    # -- what backends build on ------------------------------------------------------------

    async def _attach(self, subscription: Subscription) -> None:
        if self._closed:
            raise EventBusClosed("the event bus is closed")
        self._subscribers.setdefault(subscription.channel, set()).add(subscription)

    async def _detach(self, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(subscription.channel)
        if subscribers is not None:
            subscribers.discard(subscription)
            if not subscribers:
                del self._subscribers[subscription.channel]

    def _fan_out(self, channel: str, payload: str | bytes) -> None:
        """Give each local subscriber of ``channel`` its own decoded copy of ``payload``."""
        for subscription in list(self._subscribers.get(channel, ())):
            subscription._deliver(json.loads(payload))

    def _check_open(self) -> None:
        if self._closed:
            raise EventBusClosed("the event bus is closed")
