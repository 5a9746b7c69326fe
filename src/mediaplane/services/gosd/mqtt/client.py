"""The platform's own MQTT connections (presence watcher, job links), and reconnecting with backoff."""

from __future__ import annotations

import asyncio
import random
import secrets
import ssl
from typing import Any, cast

import aiomqtt

from mediaplane.config import Settings
from mediaplane.services.gosd.mqtt.settings import cloud_address


def cloud_client(settings: Settings, name: str, queue: asyncio.Queue[aiomqtt.Message] | None = None) -> aiomqtt.Client:
    """A client of the broker as the platform; its id is `name` plus a random part (ids are unique per
    connection: two processes, or two jobs, never knock each other off). `queue` takes the messages."""
    address = cloud_address(settings)
    queue_type: Any = None if queue is None else (lambda maxsize=0: queue)  # aiomqtt calls queue_type(maxsize=…)
    return aiomqtt.Client(
        address.host,
        address.port,
        username=address.username,
        password=address.password,
        identifier=f"{name}-{secrets.token_hex(4)}",
        protocol=aiomqtt.ProtocolVersion.V311,
        clean_session=True,
        keepalive=30,
        timeout=10,
        tls_context=ssl.create_default_context() if address.tls else None,
        queue_type=cast("type[asyncio.Queue[aiomqtt.Message]] | None", queue_type),
    )


def cancel_pending() -> bool:
    """Whether this task was asked to stop. A cancellation that lands while aiomqtt waits for the broker may be
    lost (Python 3.11's asyncio.wait_for returns the result when it came at the same moment) or turned into an
    MqttError; a loop that connects again checks this after each call, or it would run for ever."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def cancel_all(tasks: list[asyncio.Task[Any]]) -> None:
    """Cancels the tasks and waits for them. A cancel is sent again while one still runs: on Python 3.11,
    `asyncio.wait_for` (which aiomqtt uses to wait for the broker) can swallow a cancel that meets its result."""
    pending = set(tasks)
    while pending:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=1)


def describe(settings: Settings) -> str:
    """host:port of the broker, for log lines."""
    address = cloud_address(settings)
    return f"{address.host}:{address.port}"


class Backoff:
    """Delays between reconnections: doubling from `first` up to `most`, with jitter; reset on success."""

    def __init__(self, first: float = 0.5, most: float = 30.0) -> None:
        self.first = first
        self.most = most
        self.attempt = 0

    def next(self) -> float:
        delay = min(self.most, self.first * 2 ** min(self.attempt, 30))
        self.attempt += 1
        return delay * random.uniform(0.8, 1.2)

    def reset(self) -> None:
        self.attempt = 0
