"""A live gosd server on a free port whose broker is the system Mosquitto (127.0.0.1:1883) under a random topic
prefix, a node with a secret, the agent as a real process, and a plain MQTT client watching the node."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiomqtt
import httpx

from mediaplane.app import create_app
from mediaplane.core.catalog import Registry
from mediaplane.services.gosd import spec as gosd_spec
from mediaplane.services.gosd.mqtt import rpc
from tests.conftest import make_settings
from tests.fixtures.factories import admin_pat
from tests.fixtures.required import require_or_skip
from tests.fixtures.servers import free_port, serve_in_thread

MOSQUITTO = ("127.0.0.1", 1883)
USERNAME, PASSWORD = "pilot", "Hop0nTh4tM4ng0Tree"
CLIENT_ID, CLIENT_SECRET = "000000", "999999-client-secret"


def require_mosquitto() -> None:
    try:
        with socket.create_connection(MOSQUITTO, timeout=2):
            pass
    except OSError as exc:
        require_or_skip("Mosquitto at 127.0.0.1:1883", exc)


@dataclass
class LiveGosd:
    base: str  # the instance's gosd base URL
    prefix: str  # the deployment's topic prefix
    token: str

    def call(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.token}"}
        r = httpx.request(method, f"{self.base}{path}", headers=headers, timeout=30, **kwargs)
        assert r.status_code == status, r.text
        return r.json()

    def node(self, type_name: str = "air", points: list[Any] | None = None) -> tuple[int, str]:
        """A new node and its secret."""
        body = {"name": f"N-{type_name}", "type_name": type_name, "points": points or []}
        node_id: int = self.call("POST", "/api/v1/nodes/", 201, json=body)["id"]
        return node_id, self.call("POST", f"/api/v1/nodes/{node_id}/secret")["secret"]


@contextlib.contextmanager
def live_gosd(tmp_path: Path, *, embedded: bool = False, **overrides: Any) -> Iterator[LiveGosd]:
    """On the system Mosquitto, or (embedded) on serve's own broker on a free port."""
    prefix = f"test-{secrets.token_hex(6)}/"
    if embedded:
        broker: dict[str, Any] = {"mqtt_enabled": True, "mqtt_port": free_port()}
    else:
        require_mosquitto()
        broker = {"mqtt_url": f"mqtt://{MOSQUITTO[0]}:{MOSQUITTO[1]}"}
    settings = make_settings(
        tmp_path / "data",
        f"sqlite+aiosqlite:///{tmp_path / 'gosd.db'}",
        port=free_port(),
        mqtt_topic_prefix=prefix,
        **broker,
        **overrides,
    )
    registry = Registry([gosd_spec])
    pat = admin_pat(settings, registry)
    with serve_in_thread(create_app(settings, registry=registry), settings.port) as api:
        sat = httpx.post(f"{api}/servicetoken", headers={"x-pat-jwt": f"Bearer {pat}"}, json={"serviceId": "gosd"})
        options = {"username": USERNAME, "password": PASSWORD, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}
        made = httpx.post(
            f"{api}/gosdinstance", headers={"x-jwt": f"Bearer {sat.json()['token']}"}, json={"name": "fleet", **options}
        )
        assert made.status_code == 200, made.text
        base = f"{api}/gosd/admin-fleet/gosd"
        grant = {"grant_type": "password", "username": USERNAME, "password": PASSWORD}
        token = httpx.post(
            f"{base}/oauth/token", json={**grant, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        )
        assert token.status_code == 200, token.text
        yield LiveGosd(base, prefix, token.json()["access_token"])


def start_agent(gosd: LiveGosd, node_id: int, secret: str, *args: str) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "mediaplane", "gosd-agent", "--server", gosd.base, "--node", str(node_id)]
    argv += ["--speed", "20", "--telemetry-interval", "0.2", "--network-interval", "0.3", "--video", "none", *args]
    env = {**os.environ, "MEDIAPLANE_GOSD_AGENT_SECRET": secret, "COLUMNS": "200"}
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def stop_agent(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> str:
    """Stops the agent (if still running) and returns its output."""
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        out, _ = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, _ = proc.communicate()
    return out.decode(errors="replace")


@dataclass
class Watcher:
    """A plain MQTT client on the node's topics: every message it saw, and RPC requests it sends."""

    client: aiomqtt.Client
    prefix: str
    node_id: int
    seen: list[tuple[str, Any, bool]] = field(default_factory=list)  # (topic after the prefix, body, retained)

    def topic(self, leaf: str) -> str:
        return f"{self.prefix}nodes/{self.node_id}/{leaf}"

    def of(self, leaf: str) -> list[Any]:
        return [body for topic, body, _ in self.seen if topic == f"nodes/{self.node_id}/{leaf}"]

    def last(self, leaf: str) -> Any:
        found = self.of(leaf)
        return found[-1] if found else None

    async def until(self, check: Callable[[], Any], within: float = 10.0) -> Any:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            value = check()
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"not seen in time; last messages: {self.seen[-8:]}")
            await asyncio.sleep(0.02)

    async def send(self, rpc_id: str | None, method: str, params: Any = None) -> None:
        await self.client.publish(self.topic("rpc/send"), rpc.request(rpc_id, method, params), qos=1)

    def answers(self, rpc_id: str) -> list[Any]:
        return [a for a in self.of("rpc/recv") if isinstance(a, dict) and a.get("id") == rpc_id]

    async def call(self, method: str, params: Any = None, within: float = 10.0) -> dict[str, Any]:
        """Sends a request and waits for its answer (a dict with `result` or `error`)."""
        rpc_id = rpc.new_id("test")
        await self.send(rpc_id, method, params)
        answers: list[dict[str, Any]] = await self.until(lambda: self.answers(rpc_id), within)
        return answers[0]


@contextlib.asynccontextmanager
async def watching(prefix: str, node_id: int) -> AsyncIterator[Watcher]:
    async with aiomqtt.Client(*MOSQUITTO, identifier=f"test-{secrets.token_hex(4)}") as client:
        watcher = Watcher(client, prefix, node_id)
        await client.subscribe(f"{prefix}nodes/{node_id}/#", qos=1)

        async def collect() -> None:
            async for message in client.messages:
                raw = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
                body = json.loads(raw) if raw else None
                watcher.seen.append((message.topic.value[len(prefix) :], body, message.retain))

        task = asyncio.create_task(collect())
        try:
            yield watcher
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            # Clear what stayed retained, so the system broker keeps nothing of the test.
            for topic in {t for t, _, _ in watcher.seen}:
                await client.publish(f"{prefix}{topic}", b"", qos=1, retain=True)


class Proxy:
    """A TCP proxy to `target` on 127.0.0.1 (`port`, free unless given); `drop()` cuts every connection at once
    (both sides see a reset), as a network failure would."""

    def __init__(self, target: tuple[str, int], port: int = 0) -> None:
        self.target = target
        self.port = port
        self.accepted = 0
        self._server: asyncio.Server | None = None
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> Proxy:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers += [writer, up_writer]
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True)

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    def drop(self) -> None:
        for writer in self._writers:
            writer.transport.abort()
        self._writers.clear()

    async def close(self) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
