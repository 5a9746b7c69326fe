"""The node agent: asks the server for its node (bootstrap), keeps its presence on the broker, publishes its
telemetry and network quality, answers JSON-RPC requests, and pushes the video of its live points.

The broker and the server may come and go: each is tried again with a growing wait (1 s up to 30 s). Only a
refused node id or secret ends the agent. `stop` ends it cleanly: the offline status, FFmpeg stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import ssl
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt

from mediaplane.services.gosd.agent import bootstrap
from mediaplane.services.gosd.agent.depot import SimDepot
from mediaplane.services.gosd.agent.device import Device, PlainDevice
from mediaplane.services.gosd.agent.dispatch import Dispatcher
from mediaplane.services.gosd.agent.drone import HOME, SimDrone
from mediaplane.services.gosd.agent.handlers import Handlers
from mediaplane.services.gosd.agent.topics import NodeTopics
from mediaplane.services.gosd.agent.video import NONE, STABLE_SECONDS, VideoPusher, check_source, redacted
from mediaplane.services.gosd.mqtt.client import cancel_all

SIMS = ("drone", "depot", "none")
STATUS_TYPES = {"air": "drone", "drone": "drone", "depot": "depot"}  # node type_name → status type
log = logging.getLogger(__name__)


@dataclass
class AgentConfig:
    server: str  # the instance's gosd base URL (…/gosd/<tenant>-<name>/gosd)
    node_id: int
    secret: str
    mqtt_url: str | None = None  # instead of the broker the server names (NAT, a tunnel…)
    sim: str | None = None  # drone | depot | none; None: from the node's type_name
    speed: float = 1.0  # simulated seconds per second
    telemetry_interval: float = 1.0
    network_interval: float = 5.0
    video: str = "lavfi"  # lavfi | none | /dev/videoN
    link_id: int | None = None  # the paired node (a drone's depot, a depot's drone)
    home: tuple[float, float] = HOME
    keepalive: int = 15
    max_wait: float = 30.0

    def __post_init__(self) -> None:
        if self.sim is not None and self.sim not in SIMS:
            raise ValueError(f"--sim must be one of {', '.join(SIMS)}")
        check_source(self.video)
        if self.telemetry_interval <= 0 or self.network_interval <= 0 or self.speed <= 0:
            raise ValueError("the speed and the intervals must be above 0")


def log_failure(task: asyncio.Task[Any]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped: %r", task.get_name(), task.exception())


def make_device(config: AgentConfig, type_name: str) -> Device:
    status_type = STATUS_TYPES.get(type_name, type_name)
    sim = config.sim or (status_type if status_type in ("drone", "depot") else "none")
    if sim == "drone":
        return SimDrone(config.home, config.speed)
    if sim == "depot":
        return SimDepot(config.home, config.speed)
    return PlainDevice(status_type, config.speed)


@dataclass(frozen=True)
class Broker:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def broker_of(url: str) -> Broker:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError(f"not an MQTT URL: {url!r} (mqtt://host:port)")
    tls = parts.scheme in ("mqtts", "ssl")
    return Broker(
        parts.hostname,
        parts.port or (8883 if tls else 1883),
        unquote(parts.username) if parts.username else None,
        unquote(parts.password) if parts.password else None,
        tls,
    )


class NetworkMeter:
    """Round trips of the agent's pings through the broker: `delay` is their mean (ms), `loss` the share of
    the last pings that never came back."""

    def __init__(self, window: int = 10) -> None:
        self.token = secrets.token_hex(4)  # another agent of the same node pings too
        self._seq = 0
        self._pending: dict[int, float] = {}
        self._results: deque[float | None] = deque(maxlen=window)

    def ping(self) -> bytes:
        for _ in self._pending:
            self._results.append(None)
        self._pending.clear()
        self._seq += 1
        self._pending[self._seq] = time.monotonic()
        return json.dumps({"agent": self.token, "seq": self._seq}).encode()

    def echo(self, payload: bytes) -> None:
        with contextlib.suppress(ValueError, TypeError, AttributeError):
            body = json.loads(payload)
            if body.get("agent") == self.token and body.get("seq") in self._pending:
                self._results.append((time.monotonic() - self._pending.pop(body["seq"])) * 1000)

    def report(self) -> dict[str, int] | None:
        if not self._results:
            return None
        got = [r for r in self._results if r is not None]
        loss = round(100 * (len(self._results) - len(got)) / len(self._results))
        return {"loss": loss, "delay": round(sum(got) / len(got)) if got else 0}


class Agent:
    def __init__(self, config: AgentConfig, *, device: Device | None = None, handlers: Handlers | None = None) -> None:
        self.config = config
        self.device = device
        self.handlers = handlers
        self.boot: bootstrap.Bootstrap | None = None
        self.dispatcher: Dispatcher | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Runs until `stop` is set; raises bootstrap.Refused when the server refuses the node."""
        boot = await self._retry("server", stop, self._bootstrap)
        if boot is None:
            return
        device = self.device or make_device(self.config, boot.type_name)
        self.device = device
        if self.handlers is not None:
            device.handlers.update(self.handlers)
        self.dispatcher = Dispatcher(device.handlers)
        log.info(
            "node %s (%s, %s): device %s; methods: %s",
            boot.node_id,
            boot.name,
            boot.type_name,
            type(device).__name__,
            ", ".join(device.handlers) or "none",
        )
        tasks = [asyncio.create_task(device.run(), name="device")]
        tasks[0].add_done_callback(log_failure)
        for point in boot.points:
            if point.publish_url and self.config.video != NONE:
                log.info("video: point %s (%s) → %s", point.id, point.type, redacted(point.publish_url))
                pusher = VideoPusher(point.publish_url, self.config.video, max_wait=self.config.max_wait)
                tasks.append(asyncio.create_task(pusher.run(), name=f"video-{point.id}"))
        try:
            await self._retry("broker", stop, lambda: self._session(boot, device, stop))
        finally:
            await cancel_all(tasks)
            await self.dispatcher.close()

    async def _bootstrap(self) -> bootstrap.Bootstrap:
        c = self.config
        boot = await bootstrap.fetch(c.server, c.node_id, c.secret)
        if boot.mqtt_url is None and c.mqtt_url is None:
            raise bootstrap.Refused("the server has no MQTT broker for nodes: give one with --mqtt")
        self.boot = boot
        return boot

    async def _retry(self, what: str, stop: asyncio.Event, attempt: Callable[[], Awaitable[Any]]) -> Any:
        """`attempt()` until it returns, waiting longer after each failure; None when stopped first."""
        loop = asyncio.get_running_loop()
        wait = 1.0
        while not stop.is_set():
            began = loop.time()
            try:
                return await attempt()
            except bootstrap.Refused:
                raise
            except (bootstrap.BootstrapError, aiomqtt.MqttError, OSError) as exc:
                if loop.time() - began > STABLE_SECONDS:
                    wait = 1.0  # it worked for a while: this is a new outage
                log.warning("%s: %s; trying again in %.0f s", what, exc or type(exc).__name__, wait)
            with contextlib.suppress(TimeoutError):  # asyncio.timeout: 3.11's wait_for can swallow a cancel
                async with asyncio.timeout(wait):
                    await stop.wait()
            wait = min(wait * 2, self.config.max_wait)
        return None

    def _status(self, device: Device, code: int, msg: str) -> bytes:
        lat, lng, alt = device.location()
        status = {"link_id": self.config.link_id, "type": device.kind, "lat": lat, "lng": lng, "alt": alt}
        body = {"code": code, "msg": msg, "timestamp": str(int(time.time())), "status": status}
        return json.dumps(body, separators=(",", ":")).encode()

    async def _session(self, boot: bootstrap.Bootstrap, device: Device, stop: asyncio.Event) -> bool:
        """One connection to the broker, until `stop` (True) or a broker error (raised)."""
        assert self.dispatcher is not None
        url = self.config.mqtt_url or boot.mqtt_url
        assert url is not None
        broker = broker_of(url)
        topics = NodeTopics(boot.node_id, boot.topic_prefix)
        will = aiomqtt.Will(topics.status, self._status(device, 1, "offline"), qos=1, retain=True)
        async with aiomqtt.Client(
            broker.host,
            broker.port,
            username=broker.username or boot.mqtt_username,
            password=broker.password or self.config.secret,
            identifier=f"node-{boot.node_id}-{secrets.token_hex(4)}",
            protocol=aiomqtt.ProtocolVersion.V311,
            will=will,
            keepalive=self.config.keepalive,
            tls_context=ssl.create_default_context() if broker.tls else None,
            timeout=10,
        ) as client:
            await client.subscribe(topics.rpc_send, qos=1)
            await client.subscribe(topics.ping, qos=0)
            await client.publish(topics.status, self._status(device, 0, "online"), qos=1, retain=True)
            log.info("broker %s:%s: node %s online", broker.host, broker.port, boot.node_id)

            async def answer(payload: bytes) -> None:
                await client.publish(topics.rpc_recv, payload, qos=1)

            meter = NetworkMeter()
            self.dispatcher.send = answer
            work: list[asyncio.Task[Any]] = [
                asyncio.create_task(self._receive(client, topics, meter)),
                asyncio.create_task(self._telemetry(client, topics, device)),
                asyncio.create_task(self._network(client, topics, meter)),
            ]
            stopping: asyncio.Task[Any] = asyncio.create_task(stop.wait())
            try:
                await asyncio.wait([*work, stopping], return_when=asyncio.FIRST_COMPLETED)
                for task in work:
                    if task.done():
                        task.result()  # a broker error: raised to the retry loop
                await client.publish(topics.status, self._status(device, 1, "offline"), qos=1, retain=True)
                log.info("node %s offline", boot.node_id)
                return True
            finally:
                self.dispatcher.send = None
                await cancel_all([*work, stopping])

    async def _receive(self, client: aiomqtt.Client, topics: NodeTopics, meter: NetworkMeter) -> None:
        assert self.dispatcher is not None
        async for message in client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
            if message.topic.matches(topics.rpc_send):
                await self.dispatcher.receive(payload)
            elif message.topic.matches(topics.ping):
                meter.echo(payload)
        raise aiomqtt.MqttError("the broker closed the connection")

    async def _telemetry(self, client: aiomqtt.Client, topics: NodeTopics, device: Device) -> None:
        """Periodic keys every interval; state keys when they change; notifications as they come."""
        loop = asyncio.get_running_loop()
        published: dict[str, bytes] = {}
        next_periodic = loop.time()
        while True:
            if loop.time() >= next_periodic:
                for key, value in device.periodic().items():
                    await client.publish(topics.msg(key), json.dumps(value).encode(), qos=0, retain=True)
                next_periodic = loop.time() + self.config.telemetry_interval
            device.changed.clear()
            for key, value in device.state().items():
                encoded = json.dumps(value).encode()
                if published.get(key) != encoded:
                    await client.publish(topics.msg(key), encoded, qos=1, retain=True)
                    published[key] = encoded
            for notice in device.take_notices():
                await client.publish(topics.msg("notification"), json.dumps(notice).encode(), qos=1)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout_at(next_periodic):
                    await device.changed.wait()

    async def _network(self, client: aiomqtt.Client, topics: NodeTopics, meter: NetworkMeter) -> None:
        while True:
            await client.publish(topics.ping, meter.ping(), qos=0)
            await asyncio.sleep(self.config.network_interval)
            report = meter.report()
            if report is not None:
                await client.publish(topics.network, json.dumps(report).encode(), qos=0, retain=True)
