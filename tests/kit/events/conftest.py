from __future__ import annotations

import os
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import redis
from redis.exceptions import RedisError
from tests.fixtures.required import require_or_skip

from mediaplane.kit.events import EventBus, InMemoryEventBus, RedisEventBus

REDIS_URL = os.environ.get("MEDIAPLANE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

BusFactory = Callable[..., Awaitable[EventBus]]


@pytest.fixture
def redis_url() -> str:
    """The test Redis; skipped when it is not running, except under CI=true where that is a failure."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except (RedisError, OSError) as exc:
        require_or_skip(f"Redis at {REDIS_URL}", exc)
    finally:
        client.close()
    return REDIS_URL


async def _buses(url: str | None) -> AsyncIterator[BusFactory]:
    buses: list[EventBus] = []

    async def make(**options: int) -> EventBus:
        bus = RedisEventBus(url, **options) if url else InMemoryEventBus(**options)
        buses.append(bus)
        return bus

    try:
        yield make
    finally:
        for bus in buses:
            await bus.close()


@pytest.fixture
async def make_redis_bus(redis_url: str) -> AsyncIterator[BusFactory]:
    """Independent Redis buses, as separate processes would hold; all closed after the test."""
    async for make in _buses(redis_url):
        yield make


@pytest.fixture(params=["memory", "redis"])
async def make_bus(request: pytest.FixtureRequest) -> AsyncIterator[BusFactory]:
    """Buses of one backend, so one behaviour suite covers both."""
    url = request.getfixturevalue("redis_url") if request.param == "redis" else None
    async for make in _buses(url):
        yield make
