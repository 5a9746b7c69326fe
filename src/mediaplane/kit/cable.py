"""The server side of Rails ActionCable over a Starlette/FastAPI websocket.

What @rails/actioncable, @anycable/core, bgentry/actioncable-go and eyeson-js expect: ``{"type":"welcome"}``
first, ``{"type":"ping","message":<unix seconds>}`` every 3 s, ``subscribe`` answered with
``confirm_subscription`` or ``reject_subscription``, then each subscription's messages as
``{"identifier": <the client's identifier string>, "message": {...}}``; ``unsubscribe`` and ``message``
(perform) commands; ``{"type":"disconnect","reason":...,"reconnect":false}`` from the server.

    from mediaplane.kit.cable import CableConnection

    @app.websocket("/cable")
    async def cable(websocket: WebSocket) -> None:
        async def subscribe(identifier: dict[str, Any]) -> Source | None:
            if identifier.get("channel") != "RoomChannel":
                return None                                  # reject_subscription
            return events.subscribe(f"room.{identifier['room_id']}")   # kit.events Subscription fits

        async def perform(identifier: dict[str, Any], action: str, data: dict[str, Any]) -> None:
            if action == "user_joins":
                ...

        await CableConnection(websocket, subscribe=subscribe, perform=perform).run()

A source is an async context manager whose value is an async iterator of dict messages: it is entered when
the client subscribes (the confirmation goes out once it is entered, so nothing published afterwards is
missed), iterated while subscribed and exited on unsubscribe or disconnect. When its iterator ends, the
subscription ends quietly. Hooks may be plain functions or coroutines; an exception in one is logged (and
rejects the subscription), never ends the connection. Commands are handled one at a time, in order.

Subprotocols: ``actioncable-v1-json`` or ``actioncable-v1.1-json`` when offered; none when none is offered
(actioncable-go); one of ``extra_subprotocols`` when the client offers it (browsers that put a key there:
read :func:`offered_subprotocols` and authorise before running the connection). A client that offers only
other protocols gets ``actioncable-unsupported`` (when it offered that, as the Rails clients do, which then
close) and is closed without a welcome. To turn a client away Rails' way, use :func:`refuse`.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from starlette.websockets import WebSocket, WebSocketState

from mediaplane.kit.clock import Clock

__all__ = [
    "DEFAULT_PING_INTERVAL",
    "PROTOCOLS",
    "UNSUPPORTED_PROTOCOL",
    "CableConnection",
    "Message",
    "PerformHook",
    "Source",
    "SubscribeHook",
    "negotiate",
    "offered_subprotocols",
    "refuse",
]

log = logging.getLogger(__name__)

Message = dict[str, Any]
Source = AbstractAsyncContextManager[AsyncIterator[Message]]
SubscribeHook = Callable[[dict[str, Any]], Awaitable[Source | None] | Source | None]
PerformHook = Callable[[dict[str, Any], str, dict[str, Any]], Awaitable[None] | None]

PROTOCOLS = ("actioncable-v1-json", "actioncable-v1.1-json")
UNSUPPORTED_PROTOCOL = "actioncable-unsupported"
DEFAULT_PING_INTERVAL = 3.0
UNSUPPORTED_CLOSE_CODE = 1002  # protocol error


class _Closed(Exception):
    """The socket can no longer be written to."""


def offered_subprotocols(websocket: WebSocket) -> list[str]:
    """The subprotocols the client offered, in its order."""
    return [str(p) for p in websocket.scope.get("subprotocols") or ()]


def negotiate(offered: Collection[str], extra: Collection[str] = ()) -> tuple[str | None, bool]:
    """The subprotocol to accept with, and whether the client speaks a protocol we do.

    The client's first ActionCable JSON protocol wins, then the first of ``extra`` it offered. Offered only
    others: ``actioncable-unsupported`` if it offered that (else no subprotocol), and ``False``.
    """
    if not offered:
        return None, True
    for protocol in offered:
        if protocol in PROTOCOLS:
            return protocol, True
    for protocol in offered:
        if protocol in extra:
            return protocol, True
    return (UNSUPPORTED_PROTOCOL if UNSUPPORTED_PROTOCOL in offered else None), False


def _encode(frame: Mapping[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), allow_nan=False)


async def _resolve(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def refuse(
    websocket: WebSocket, reason: str = "unauthorized", *, extra_subprotocols: Collection[str] = ()
) -> None:
    """Accept, send ``{"type":"disconnect","reason":reason,"reconnect":false}`` and close, as Rails does for
    a rejected connection (the clients stop reconnecting on it)."""
    subprotocol, _ = negotiate(offered_subprotocols(websocket), extra_subprotocols)
    with contextlib.suppress(Exception):
        if websocket.application_state == WebSocketState.CONNECTING:
            await websocket.accept(subprotocol=subprotocol)
        await websocket.send_text(_encode({"type": "disconnect", "reason": reason, "reconnect": False}))
        await websocket.close()


class _Subscription:
    def __init__(self, identifier: str, params: dict[str, Any]) -> None:
        self.identifier = identifier
        self.params = params
        self.task: asyncio.Task[None] | None = None


class CableConnection:
    """One client's ActionCable connection: :meth:`run` it in the websocket route until the client goes.

    ``subscribe(identifier)`` gives a :data:`Source` or ``None`` (reject); ``perform(identifier, action,
    data)`` gets the client's ``message`` commands (``data`` still holds ``"action"``, as in Rails; a missing
    action is ``"receive"``). :meth:`transmit` and :meth:`disconnect` may be called from any task.
    """

    def __init__(
        self,
        websocket: WebSocket,
        *,
        subscribe: SubscribeHook,
        perform: PerformHook | None = None,
        extra_subprotocols: Collection[str] = (),
        ping_interval: float = DEFAULT_PING_INTERVAL,
        clock: Clock | None = None,
    ) -> None:
        if ping_interval <= 0:
            raise ValueError("ping_interval must be positive")
        self.websocket = websocket
        self.subprotocol: str | None = None
        self._subscribe = subscribe
        self._perform = perform
        self._extra = tuple(extra_subprotocols)
        self._ping_interval = ping_interval
        self._clock = clock or Clock()
        self._send_lock = asyncio.Lock()
        self._stopped = asyncio.Event()
        self._closing = False
        self._subscriptions: dict[str, _Subscription] = {}

    def __repr__(self) -> str:
        return f"<CableConnection subscriptions={len(self._subscriptions)} closing={self._closing}>"

    @property
    def identifiers(self) -> list[str]:
        """The identifier strings currently subscribed, in subscription order."""
        return list(self._subscriptions)

    @property
    def closed(self) -> bool:
        return self._closing or self._stopped.is_set()

    # -- the connection's life ---------------------------------------------------------------

    async def run(self) -> None:
        """Accept (unless already accepted), welcome, then serve until the client or :meth:`disconnect`
        closes. Every subscription is exited and every task ended before this returns."""
        ws = self.websocket
        if ws.application_state == WebSocketState.CONNECTING:
            subprotocol, supported = negotiate(offered_subprotocols(ws), self._extra)
            await ws.accept(subprotocol=subprotocol)
            self.subprotocol = subprotocol
            if not supported:
                # (not logging the offered names: browsers may put an API key among them)
                log.info("closing an ActionCable client that offers no protocol we speak")
                self._closing = True
                with contextlib.suppress(Exception):
                    await ws.close(UNSUPPORTED_CLOSE_CODE, "unsupported subprotocol")
                return
        tasks: list[asyncio.Task[Any]] = []
        try:
            await self._send({"type": "welcome"})
            tasks = [
                asyncio.create_task(self._read(), name="cable reader"),
                asyncio.create_task(self._ping(), name="cable pings"),
                asyncio.create_task(self._stopped.wait(), name="cable stop"),
            ]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if not task.cancelled() and (exc := task.exception()) is not None:
                    log.error("ActionCable connection failed", exc_info=exc)
        except _Closed:
            pass
        finally:
            self._stopped.set()
            streams = [s.task for s in self._subscriptions.values() if s.task is not None]
            self._subscriptions.clear()
            for task in (*tasks, *streams):
                task.cancel()
            await asyncio.gather(*tasks, *streams, return_exceptions=True)
            await self._close_socket()

    async def disconnect(self, reason: str, reconnect: bool = False) -> None:
        """Send ``{"type":"disconnect","reason":reason,"reconnect":reconnect}``, close, and end :meth:`run`."""
        if self._closing:
            return
        self._closing = True
        frame = _encode({"type": "disconnect", "reason": reason, "reconnect": reconnect})
        with contextlib.suppress(Exception):
            async with self._send_lock:
                await self.websocket.send_text(frame)
        await self._close_socket()
        self._stopped.set()

    async def transmit(self, identifier: str | Mapping[str, Any], message: Message) -> bool:
        """Send ``message`` to one subscription, named by its identifier string or its decoded identifier.
        False when there is no such subscription (or the socket is closed)."""
        subscription = self._find(identifier)
        if subscription is None:
            return False
        try:
            await self._send({"identifier": subscription.identifier, "message": message})
        except _Closed:
            return False
        return True

    # -- internals ---------------------------------------------------------------------------

    def _find(self, identifier: str | Mapping[str, Any]) -> _Subscription | None:
        if isinstance(identifier, str):
            return self._subscriptions.get(identifier)
        wanted = dict(identifier)
        return next((s for s in self._subscriptions.values() if s.params == wanted), None)

    async def _send(self, frame: Mapping[str, Any]) -> None:
        await self._send_text(_encode(frame))

    async def _send_text(self, text: str) -> None:
        """Send one frame; on any failure the connection stops and :class:`_Closed` is raised."""
        if self._closing or self._stopped.is_set():
            raise _Closed
        try:
            async with self._send_lock:
                await self.websocket.send_text(text)
        except Exception as exc:
            log.debug("ActionCable send failed: %r", exc)
            self._stopped.set()
            raise _Closed from exc

    async def _close_socket(self) -> None:
        ws = self.websocket
        if ws.application_state == WebSocketState.DISCONNECTED or ws.client_state == WebSocketState.DISCONNECTED:
            return
        with contextlib.suppress(Exception):
            await ws.close()

    async def _ping(self) -> None:
        with contextlib.suppress(_Closed):
            while True:
                await asyncio.sleep(self._ping_interval)
                await self._send({"type": "ping", "message": self._clock.timestamp()})

    async def _read(self) -> None:
        while True:
            event = await self.websocket.receive()
            if event["type"] == "websocket.disconnect":
                return
            text = event.get("text")
            if text is None:
                log.debug("ignoring a binary ActionCable frame")
                continue
            try:
                await self._handle(text)
            except _Closed:
                return

    async def _handle(self, text: str) -> None:
        try:
            frame = json.loads(text)
        except ValueError:
            log.debug("ignoring a frame that is not JSON: %.200r", text)
            return
        if not isinstance(frame, dict):
            log.debug("ignoring a frame that is not an object: %.200r", text)
            return
        command = frame.get("command")
        identifier = frame.get("identifier")
        if command == "pong":  # anycable's extended protocol; harmless elsewhere
            return
        if not isinstance(identifier, str):
            log.debug("ignoring a %r command without an identifier string", command)
            return
        if command == "subscribe":
            await self._add(identifier)
        elif command == "unsubscribe":
            await self._remove(identifier)
        elif command == "message":
            await self._message(identifier, frame.get("data"))
        else:
            log.debug("ignoring an unknown command %.100r", command)

    async def _add(self, identifier: str) -> None:
        if identifier in self._subscriptions:  # clients resend until confirmed: confirm again, stream once
            await self._send({"identifier": identifier, "type": "confirm_subscription"})
            return
        params = _decode_object(identifier)
        source: Source | None = None
        if params is not None:
            try:
                source = await _resolve(self._subscribe(params))
            except Exception:
                log.exception("the subscribe hook failed for %.200s", identifier)
        if source is None:
            await self._send({"identifier": identifier, "type": "reject_subscription"})
            return
        subscription = _Subscription(identifier, params or {})
        entered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._stream(subscription, source, entered), name="cable stream")
        subscription.task = task
        self._subscriptions[identifier] = subscription
        try:
            confirmed = await entered
        finally:
            if not entered.done():  # we were cancelled while the source was being entered
                task.cancel()
        if not confirmed:
            self._forget(subscription)
            await self._send({"identifier": identifier, "type": "reject_subscription"})

    async def _stream(self, subscription: _Subscription, source: Source, entered: asyncio.Future[bool]) -> None:
        identifier = subscription.identifier
        try:
            async with source as messages:
                try:
                    await self._send({"identifier": identifier, "type": "confirm_subscription"})
                    entered.set_result(True)
                    async for message in messages:
                        try:
                            frame = _encode({"identifier": identifier, "message": message})
                        except (TypeError, ValueError):
                            log.error("dropping a message that is not JSON for %.200s", identifier)
                            continue
                        await self._send_text(frame)
                        await asyncio.sleep(0)  # let other subscriptions' messages interleave in arrival order
                finally:
                    if inspect.isasyncgen(messages):  # close a generator now, not when it is garbage-collected
                        await messages.aclose()
        except _Closed:
            pass
        except Exception:
            log.exception("the source of %.200s failed", identifier)
        finally:
            if not entered.done():
                entered.set_result(False)
            elif self._subscriptions.get(identifier) is subscription and not self._stopped.is_set():
                self._forget(subscription)  # the source ended: the subscription with it

    def _forget(self, subscription: _Subscription) -> None:
        if self._subscriptions.get(subscription.identifier) is subscription:
            del self._subscriptions[subscription.identifier]

    async def _remove(self, identifier: str) -> None:
        subscription = self._subscriptions.pop(identifier, None)
        if subscription is None or subscription.task is None:
            return
        subscription.task.cancel()
        await asyncio.gather(subscription.task, return_exceptions=True)

    async def _message(self, identifier: str, data: Any) -> None:
        subscription = self._subscriptions.get(identifier)
        if subscription is None:
            log.debug("ignoring a message for %.200s, which is not subscribed", identifier)
            return
        payload = _decode_object(data) if isinstance(data, str) else data if isinstance(data, dict) else None
        if payload is None:
            if data is not None:
                log.debug("ignoring a message whose data is not a JSON object: %.200r", data)
                return
            payload = {}
        action = payload.get("action") or "receive"
        if self._perform is None or not isinstance(action, str):
            return
        try:
            await _resolve(self._perform(dict(subscription.params), action, payload))
        except Exception:
            log.exception("the perform hook failed for %r on %.200s", action, identifier)


def _decode_object(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None
