"""A running job's own connection to its nodes: JSON-RPC calls with gosd's resend schedule, and the nodes'
last status, network and messages.

    async with open_link(settings, [node_id]) as link:
        if await link.wait_online(node_id, 10):
            result = await link.call(node_id, "takeoff", {"alt": 20})

The link lives in the event loop that opened it (a job's worker thread has its own) and reconnects by
itself when the broker goes away; requests are resent until answered, so none is lost meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager, suppress
from typing import Any

import aiomqtt

from mediaplane.config import Settings
from mediaplane.services.gosd.mqtt import rpc
from mediaplane.services.gosd.mqtt.client import Backoff, cancel_all, cancel_pending, cloud_client, describe
from mediaplane.services.gosd.mqtt.rpc import TIMEOUT_CODE, RpcFailed
from mediaplane.services.gosd.mqtt.settings import Topics

log = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 3600.0  # gosd waits an hour for an answer
FIRST_RESEND = 2.0  # then 4, 8, 16 … s (gosd)
PUBLISH_WAIT = 30.0  # how long notify() waits for a connection


class LinkUnavailable(ConnectionError):
    """The broker could not be reached (or refused the platform) when the link was opened."""


def _decode(payload: Any) -> tuple[bool, Any]:
    """(present, value): JSON when it is JSON, else the text; an empty payload is no value."""
    if not isinstance(payload, bytes | bytearray) or not payload:
        return False, None
    try:
        return True, json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return True, bytes(payload).decode("utf-8", "replace")


class NodeLink:
    first_resend = FIRST_RESEND  # seconds before the first resend (tests make it short)

    def __init__(self, settings: Settings, node_ids: Iterable[int], client: str = "gosd.0") -> None:
        self.settings = settings
        self.node_ids: list[int] = list(dict.fromkeys(int(n) for n in node_ids))  # the nodes watched
        self.name = client
        self.topics = Topics(settings.mqtt_topic_prefix)
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._statuses: dict[int, dict[str, Any]] = {}
        self._networks: dict[int, dict[str, Any]] = {}
        self._messages: dict[tuple[int, str], Any] = {}
        self._message_waiters: dict[tuple[int, str], list[asyncio.Future[Any]]] = defaultdict(list)
        self._online: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._offline: dict[int, asyncio.Event] = defaultdict(asyncio.Event)
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}

    # What a job reads.

    def status(self, node_id: int) -> dict[str, Any] | None:
        return self._statuses.get(node_id)

    def network(self, node_id: int) -> dict[str, Any] | None:
        return self._networks.get(node_id)

    def message(self, node_id: int, name: str) -> Any | None:
        return self._messages.get((node_id, name))

    async def wait_message(self, node_id: int, name: str, timeout: float) -> Any | None:  # noqa: ASYNC109
        """The next msg/{name} of the node (not the one already there), or None after `timeout` seconds."""
        waiter: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        waiters = self._message_waiters[(node_id, name)]
        waiters.append(waiter)
        try:
            return await asyncio.wait_for(waiter, timeout)
        except TimeoutError:
            return None
        finally:
            with suppress(ValueError):
                waiters.remove(waiter)

    def online(self, node_id: int) -> bool:
        return self._online[node_id].is_set()

    async def wait_online(self, node_id: int, timeout: float) -> bool:  # noqa: ASYNC109
        """Whether the node is online, waiting up to `timeout` seconds for it (its retained status comes just
        after the link opens)."""
        try:
            await asyncio.wait_for(self._online[node_id].wait(), timeout)
        except TimeoutError:
            return False
        return True

    def went_offline(self, node_id: int) -> asyncio.Event:
        """Set when the node's status says it is not online (code != 0, such as its will), cleared when it
        is online again; a task waiting on it wakes even if the node is back at once."""
        return self._offline[node_id]

    # What a job does.

    async def call(
        self,
        node_id: int,
        method: str,
        params: Any = None,
        timeout: float | None = None,  # noqa: ASYNC109 - the deadline of the answer, with resends inside it
    ) -> Any:
        """The node's result; RpcFailed with the node's error, or (TIMEOUT_CODE, "timeout") when no answer
        came within `timeout` seconds (an hour by default). The request is sent again after 2, 4, 8 … s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (DEFAULT_TIMEOUT if timeout is None else timeout)
        await self.watch(node_id)  # subscribed to its answers before asking
        rpc_id = rpc.new_id(self.name)
        payload = rpc.request(rpc_id, method, params)
        answer: asyncio.Future[dict[str, Any]] = loop.create_future()
        self._pending[rpc_id] = answer
        wait = self.first_resend
        try:
            while True:
                await self._send(node_id, payload, deadline)
                left = deadline - loop.time()
                if left <= 0:
                    break
                with suppress(TimeoutError):
                    return _result(await asyncio.wait_for(asyncio.shield(answer), min(wait, left)))
                wait *= 2
        finally:
            self._pending.pop(rpc_id, None)
            answer.cancel()
        raise RpcFailed(TIMEOUT_CODE, "timeout")

    async def notify(self, node_id: int, method: str, params: Any = None) -> None:
        """A JSON-RPC notification (no answer); RpcFailed(TIMEOUT_CODE) when it could not be sent."""
        deadline = asyncio.get_running_loop().time() + PUBLISH_WAIT
        await self.watch(node_id)
        if not await self._send(node_id, rpc.request(None, method, params), deadline):
            raise RpcFailed(TIMEOUT_CODE, "timeout")

    async def _send(self, node_id: int, payload: bytes, deadline: float) -> bool:
        """Publishes on the node's rpc/send (QoS 1), waiting for a connection until `deadline`; whether it
        went out (if not, the next resend tries again)."""
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            return False
        try:
            await asyncio.wait_for(self._connected.wait(), left)
        except TimeoutError:
            return False
        client = self._client
        if client is None:
            return False
        try:
            await client.publish(self.topics.rpc_send(node_id), payload, qos=1)
        except aiomqtt.MqttError as exc:
            log.warning("gosd link: sending to node %d failed: %s", node_id, exc)
            return False
        return True

    # The connection.

    async def watch(self, node_id: int) -> None:
        """Subscribes to one more node's topics (call() and notify() do it for the node they talk to)."""
        if node_id in self.node_ids:
            return
        self.node_ids.append(node_id)  # a reconnection subscribes to it in any case
        client = self._client
        if client is not None:
            try:
                await self._subscribe(client, [node_id])
            except aiomqtt.MqttError as exc:
                log.warning("gosd link: subscribing to node %d failed: %s", node_id, exc)

    async def _subscribe(self, client: aiomqtt.Client, node_ids: list[int]) -> None:
        filters = [
            (self.topics.node(node_id, leaf), 1)
            for node_id in node_ids
            for leaf in ("status", "network", "msg/#", "rpc/recv")
        ]
        if not filters:
            return
        granted = await client.subscribe(filters)
        refused = [f for (f, _), code in zip(filters, granted, strict=False) if _code(code) >= 0x80]
        if refused:
            raise aiomqtt.MqttError(f"the broker refused the subscriptions {', '.join(refused)}")

    async def _connect(self) -> aiomqtt.Client:
        client = cloud_client(self.settings, self.name)
        await client.__aenter__()
        try:
            await self._subscribe(client, list(self.node_ids))
            if cancel_pending():
                raise asyncio.CancelledError
        except BaseException:
            await _close(client)
            raise
        return client

    async def _serve(self, client: aiomqtt.Client) -> None:
        """Reads messages; on a lost connection, connects again (with backoff) until cancelled."""
        backoff = Backoff()
        while True:
            self._client = client
            self._connected.set()
            try:
                async for message in client.messages:
                    self._receive(message.topic.value, message.payload)
            except aiomqtt.MqttError as exc:
                log.warning("gosd link: lost the MQTT broker %s: %s", describe(self.settings), exc)
            finally:
                self._connected.clear()
                self._client = None
                await _close(client)
            while True:
                if cancel_pending():
                    raise asyncio.CancelledError
                await asyncio.sleep(backoff.next())
                try:
                    client = await self._connect()
                except aiomqtt.MqttError as exc:
                    log.info("gosd link: MQTT broker %s still unreachable: %s", describe(self.settings), exc)
                    continue
                backoff.reset()
                break

    def _receive(self, topic: str, payload: Any) -> None:
        found = self.topics.node_of(topic)
        if found is None:
            return
        node_id, leaf = found
        present, value = _decode(payload)
        if leaf == "status":
            self._set_status(node_id, value if present and isinstance(value, dict) else None)
        elif leaf == "network":
            if present and isinstance(value, dict):
                self._networks[node_id] = value
            else:
                self._networks.pop(node_id, None)
        elif leaf.startswith("msg/") and len(leaf) > len("msg/"):
            key = (node_id, leaf[len("msg/") :])
            if not present:
                self._messages.pop(key, None)
                return
            self._messages[key] = value
            for waiter in self._message_waiters.get(key, []):
                if not waiter.done():
                    waiter.set_result(value)
        elif leaf == "rpc/recv" and present:
            for answer in value if isinstance(value, list) else [value]:
                self._answer(answer)

    def _set_status(self, node_id: int, status: dict[str, Any] | None) -> None:
        if status is None:
            self._statuses.pop(node_id, None)
            self._online[node_id].clear()
            return
        self._statuses[node_id] = status
        if status.get("code") == 0:
            self._online[node_id].set()
            self._offline[node_id].clear()
        else:
            self._online[node_id].clear()
            self._offline[node_id].set()

    def _answer(self, answer: Any) -> None:
        if not isinstance(answer, dict) or not isinstance(answer.get("id"), str):
            return
        pending = self._pending.get(answer["id"])
        if pending is not None and not pending.done():  # a second answer (to a resend) is dropped here
            pending.set_result(answer)


def _result(answer: dict[str, Any]) -> Any:
    error = answer.get("error")
    if error is None:
        return answer.get("result")
    if not isinstance(error, dict):
        raise RpcFailed(-32603, str(error))
    code = error.get("code")
    message = error.get("message")
    raise RpcFailed(
        code if isinstance(code, int) and not isinstance(code, bool) else -32603,
        message if isinstance(message, str) else "error",
        error.get("data"),
    )


def _code(granted: Any) -> int:
    value = getattr(granted, "value", granted)
    return value if isinstance(value, int) else 0x80


async def _close(client: aiomqtt.Client) -> None:
    with suppress(Exception):
        await client.__aexit__(None, None, None)


@asynccontextmanager
async def open_link(settings: Settings, node_ids: Iterable[int], *, client: str = "gosd.0") -> AsyncIterator[NodeLink]:
    """A NodeLink subscribed to the nodes' topics; LinkUnavailable when the broker cannot be reached now."""
    link = NodeLink(settings, node_ids, client)
    try:
        first = await link._connect()
    except aiomqtt.MqttError as exc:
        raise LinkUnavailable(f"MQTT broker {describe(settings)}: {exc}") from exc
    serving = asyncio.create_task(link._serve(first), name=f"gosd-link-{client}")
    try:
        yield link
    finally:
        await cancel_all([serving])
        with suppress(asyncio.CancelledError):
            await serving
        for pending in link._pending.values():
            pending.cancel()


__all__ = ["DEFAULT_TIMEOUT", "LinkUnavailable", "NodeLink", "RpcFailed", "open_link"]
