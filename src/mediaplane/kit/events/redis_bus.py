"""The bus across processes: Redis pub/sub carrying JSON.

Each bus holds one connection for publishing (from a small pool) and one pub/sub connection shared
by all its subscriptions: Redis is subscribed to a channel while at least one local subscription is
open on it, and a reader task fans incoming messages out to the local queues. Subscribing waits for
Redis to confirm, so a message published after ``async with bus.subscribe(...)`` is never missed.

Pub/sub is at-most-once: a subscriber that is disconnected misses what is published meanwhile
(the connection is re-established and resubscribed automatically).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from mediaplane.kit.events.base import (
    EventBus,
    EventBusUnavailable,
    Message,
    Subscription,
    check_channel,
    encode,
)

__all__ = ["RedisEventBus"]

log = logging.getLogger(__name__)


class RedisEventBus(EventBus):
    def __init__(self, url: str, *, max_queue: int = 1000, subscribe_timeout: float = 10.0) -> None:
        super().__init__(max_queue=max_queue)
        self.url = url
        self.subscribe_timeout = subscribe_timeout
        self._redis = aioredis.Redis.from_url(url)
        self._pubsub: aioredis.client.PubSub | None = None
        self._reader: asyncio.Task[None] | None = None
        self._ready: dict[str, asyncio.Future[None]] = {}
        self._confirmations: dict[str, deque[asyncio.Future[None]]] = {}

    def __repr__(self) -> str:
        return f"RedisEventBus({self.url!r})"

    async def publish(self, channel: str, message: Message) -> None:
        self._check_open()
        payload = encode(message)
        try:
            await self._redis.publish(check_channel(channel), payload)
        except RedisError as exc:
            raise EventBusUnavailable(f"cannot publish to Redis: {exc}") from exc

    async def ping(self) -> None:
        """Raise EventBusUnavailable unless Redis answers."""
        try:
            await self._redis.ping()
        except RedisError as exc:
            raise EventBusUnavailable(f"Redis does not answer: {exc}") from exc

    # -- subscriptions ---------------------------------------------------------------------

    async def _attach(self, subscription: Subscription) -> None:
        await super()._attach(subscription)
        channel = subscription.channel
        ready = self._ready.get(channel)
        if ready is None:
            ready = self._ready[channel] = asyncio.ensure_future(self._subscribe(channel))
        try:
            await asyncio.shield(ready)
        except BaseException:
            # Cancelled or failed: leave nothing subscribed on our behalf.
            await asyncio.shield(self._detach(subscription))
            raise

    async def _subscribe(self, channel: str) -> None:
        if self._pubsub is None:
            self._pubsub = self._redis.pubsub()
        confirmed = asyncio.get_running_loop().create_future()
        self._confirmations.setdefault(channel, deque()).append(confirmed)
        try:
            await self._pubsub.subscribe(channel)
            if self._reader is None:
                self._reader = asyncio.create_task(self._read(), name=f"{self!r} reader")
            await asyncio.wait_for(asyncio.shield(confirmed), self.subscribe_timeout)
        except (RedisError, OSError, TimeoutError) as exc:
            with contextlib.suppress(ValueError):
                self._confirmations[channel].remove(confirmed)
            raise EventBusUnavailable(f"cannot subscribe to {channel!r} on Redis: {exc}") from exc

    async def _detach(self, subscription: Subscription) -> None:
        await super()._detach(subscription)
        channel = subscription.channel
        if self._closed or self.subscriber_count(channel) or channel not in self._ready:
            return
        ready = self._ready.pop(channel)
        if not ready.done():  # unsubscribe only after the subscribe, or Redis would keep the channel
            await asyncio.wait([ready], timeout=self.subscribe_timeout)
        if self._pubsub is None:  # pragma: no cover - _ready implies a pub/sub connection
            return
        try:
            await self._pubsub.unsubscribe(channel)
        except (RedisError, OSError) as exc:
            log.warning("could not unsubscribe from %r: %s", channel, exc)

    async def _read(self) -> None:
        """Move messages from the pub/sub connection to the local queues until cancelled."""
        assert self._pubsub is not None
        backoff = 0.1
        while True:
            try:
                event = await self._pubsub.get_message(timeout=1.0)
            except (RedisError, OSError) as exc:
                log.warning("Redis pub/sub connection lost (%s); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            backoff = 0.1
            if event is None:
                continue
            kind = event["type"]
            channel = event["channel"]
            if isinstance(channel, bytes):
                channel = channel.decode()
            if kind == "message":
                try:
                    self._fan_out(channel, event["data"])
                except ValueError:
                    log.warning("ignored a message on %r that is not JSON", channel)
            elif kind == "subscribe":
                waiting = self._confirmations.get(channel)
                while waiting:
                    future = waiting.popleft()
                    if not future.done():
                        future.set_result(None)
                        break

    async def close(self) -> None:
        if self._closed:
            return
        await super().close()
        for ready in self._ready.values():
            ready.cancel()
        self._ready.clear()
        for waiting in self._confirmations.values():
            for future in waiting:
                future.cancel()
        self._confirmations.clear()
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
            self._reader = None
        if self._pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await self._pubsub.aclose()
            self._pubsub = None
        await self._redis.aclose()
