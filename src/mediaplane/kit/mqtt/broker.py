"""An MQTT 3.1.1 broker in the current event loop (amqtt), where an Authority decides who may connect and
which topics each client may publish, subscribe to and receive.

amqtt's own flow has gaps that matter once clients do not trust each other, so this broker closes them:
- it authenticates only after it has merged or replaced the session of the client id, so an unknown client
  could take over (or wipe the subscriptions of) a connected client by reusing its id: here the CONNECT is
  judged first, and a client id in use belongs to the principal that holds it; a second connection with
  the id ends the first (amqtt let both run when the second asked for a clean session);
- a will is published without any topic check: here a will on a topic the client may not publish is refused;
- retained messages are sent on subscribe (and on reconnect, for every filter of every client) without the
  receive check: here only for the client's own filters, and only topics it may receive.
The hooks are amqtt 0.12's internal methods; tests/kit/mqtt cover each of these cases.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from amqtt.adapters import ReaderAdapter, WriterAdapter  # type: ignore[import-untyped]
from amqtt.broker import Broker  # type: ignore[import-untyped]
from amqtt.contexts import Action as AmqttAction  # type: ignore[import-untyped]
from amqtt.contexts import ListenerConfig
from amqtt.errors import AMQTTError, MQTTError, NoDataError  # type: ignore[import-untyped]
from amqtt.mqtt.connack import IDENTIFIER_REJECTED, NOT_AUTHORIZED, ConnackPacket  # type: ignore[import-untyped]
from amqtt.mqtt.constants import QOS_0  # type: ignore[import-untyped]
from amqtt.mqtt.protocol.broker_handler import BrokerProtocolHandler  # type: ignore[import-untyped]
from amqtt.session import Session  # type: ignore[import-untyped]
from amqtt.utils import gen_client_id  # type: ignore[import-untyped]

log = logging.getLogger(__name__)

Action = Literal["publish", "subscribe", "receive"]
WILDCARDS = ("+", "#")
_PRINCIPAL = "mediaplane.principal"  # where a session keeps who it is (Session.attributes)
_STOP_GRACE = 5.0  # seconds the connections get to end after the broker closes them
QUIET_LOGGERS = ("amqtt", "transitions")
CONNECT_TIMEOUT = 10.0  # a connection that sends no CONNECT in this time is closed (amqtt waits forever)


@dataclass(frozen=True)
class Principal:
    """Who a client is: `roots` are the topic prefixes it may use (each ends with "/"), None for all."""

    name: str
    roots: tuple[str, ...] | None = None


class Authority(Protocol):
    async def authenticate(self, client_id: str, username: str, password: str) -> Principal | None:
        """The principal of these credentials, or None to refuse the connection."""
        ...

    def allowed(self, principal: Principal, action: Action, topic: str) -> bool:
        """Whether `principal` may publish to, subscribe to (a filter, maybe with wildcards) or receive
        `topic`. Called for every message, so it must be cheap."""
        ...


def within(topic: str, root: str) -> bool:
    """Whether a topic or filter reaches only topics under `root` ("a/b/"): a wildcard may come only after
    it, and a root with a wildcard of its own holds nothing."""
    return (
        root.endswith("/")
        and not any(w in root for w in WILDCARDS)
        and topic.startswith(root)
        and len(topic) > len(root)
    )


def allowed_by_roots(principal: Principal, topic: str) -> bool:
    """The usual rule: anything for a principal without roots, else topics under one of its roots."""
    if principal.roots is None:
        return True
    return any(within(topic, root) for root in principal.roots)


def _principal(session: Session) -> Principal | None:
    found = session.attributes.get(_PRINCIPAL)
    return found if isinstance(found, Principal) else None


class _GuardedBroker(Broker):
    def __init__(self, config: dict[str, Any], authority: Authority) -> None:
        super().__init__(config)
        self.authority = authority
        # Each connection's task and socket, so that stop() can close what amqtt does not know yet.
        self.connections: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}

    async def stream_connected(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, listener_name: str
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self.connections[task] = writer
            task.add_done_callback(lambda done: self.connections.pop(done, None))
        await super().stream_connected(reader, writer, listener_name)

    async def _initialize_client_session(
        self, reader: ReaderAdapter, writer: WriterAdapter, remote_address: str, remote_port: int
    ) -> tuple[BrokerProtocolHandler, Session]:
        try:
            handler, session = await asyncio.wait_for(
                BrokerProtocolHandler.init_from_connect(reader, writer, self.plugins_manager), CONNECT_TIMEOUT
            )
        except (AMQTTError, MQTTError, NoDataError, TimeoutError) as exc:
            await _close(writer)
            raise AMQTTError(f"{remote_address}:{remote_port}: no valid CONNECT ({exc})") from exc
        await self._admit(session, writer, f"{remote_address}:{remote_port}")
        if session.client_id:
            await self._take_over(session.client_id)

        # From here on as amqtt does, now that the client is known.
        if session.clean_session:
            if session.client_id:
                await self._delete_session(session.client_id)
            else:
                session.client_id = gen_client_id()
            session.parent = 0
        elif session.client_id in self._sessions:
            existing, _ = self._sessions[session.client_id]
            for name in ("will_flag", "will_message", "will_topic", "will_qos", "will_retain", "keep_alive"):
                setattr(existing, name, getattr(session, name))
            existing.username = session.username
            existing.attributes[_PRINCIPAL] = session.attributes[_PRINCIPAL]
            session = existing
            session.parent = 1
        else:
            session.parent = 0
        delay = self.config.get("timeout-disconnect-delay", 0)
        if session.keep_alive > 0 and isinstance(delay, int):
            session.keep_alive += delay
        return handler, session

    async def _admit(self, session: Session, writer: WriterAdapter, peer: str) -> None:
        """Authenticates the CONNECT and checks its will and client id; refuses it (CONNACK, close) if not."""
        username, password = session.username, session.password or ""
        session.password = None  # not kept in memory for the connection's life
        principal = None
        if username:
            try:
                principal = await self.authority.authenticate(session.client_id or "", username, password)
            except Exception:
                log.exception("MQTT: authenticating %r from %s failed", username, peer)
        if principal is None:
            await _refuse(writer, NOT_AUTHORIZED)
            raise AMQTTError(f"{peer}: not authorized (user {username!r})")
        if session.will_flag and not self._may_publish(principal, session.will_topic or ""):
            await _refuse(writer, NOT_AUTHORIZED)
            raise AMQTTError(f"{peer}: {principal.name} may not leave a will on {session.will_topic!r}")
        holder = self._sessions.get(session.client_id or "")
        holder_principal = _principal(holder[0]) if holder else None
        if holder_principal is not None and holder_principal.name != principal.name:
            await _refuse(writer, IDENTIFIER_REJECTED)
            raise AMQTTError(f"{peer}: client id {session.client_id!r} belongs to another user")
        session.attributes[_PRINCIPAL] = principal

    async def _take_over(self, client_id: str) -> None:
        """Ends the connection that holds `client_id`, as MQTT asks (amqtt leaves it running when the new
        one starts a clean session): its will goes out now, not when its keep-alive runs out later, after
        the new connection's own messages."""
        holder = self._sessions.get(client_id)
        if holder is None or not holder[0].transitions.is_connected():
            return
        await holder[1].handle_connection_closed()
        for _ in range(200):  # its message loop publishes the will and marks the session disconnected
            if not holder[0].transitions.is_connected():
                return
            await asyncio.sleep(0.01)

    def _may_publish(self, principal: Principal, topic: str) -> bool:
        if not topic or topic.startswith("$") or any(w in topic for w in WILDCARDS):
            return False
        return self._allowed(principal, "publish", topic)

    def _allowed(self, principal: Principal, action: Action, topic: str) -> bool:
        try:
            return self.authority.allowed(principal, action, topic)
        except Exception:
            log.exception("MQTT: checking %s %s for %s failed", action, topic, principal.name)
            return False

    async def _authenticate(self, session: Session, _: ListenerConfig) -> bool:
        return _principal(session) is not None  # decided in _admit, before the session was touched

    async def _topic_filtering(self, session: Session, topic: str, action: AmqttAction) -> bool:
        principal = _principal(session)
        if principal is None:
            return False
        return self._allowed(principal, action.value, topic)

    async def _publish_retained_messages_for_subscription(
        self, subscription: tuple[str, int], session: Session
    ) -> None:
        topic_filter, qos = subscription
        holders = self._subscriptions.get(topic_filter, [])
        principal = _principal(session)
        handler = self._get_handler(session)
        if principal is None or handler is None or all(s.client_id != session.client_id for s, _ in holders):
            return
        sends = [
            asyncio.ensure_future(
                handler.mqtt_publish(topic, retained.data, min(qos, retained.qos or QOS_0), retain=True)
            )
            for topic, retained in list(self._retained_messages.items())
            if self._matches(topic, topic_filter) and self._allowed(principal, "receive", topic)
        ]
        if sends:
            await asyncio.wait(sends)


async def _refuse(writer: WriterAdapter, code: int) -> None:
    with contextlib.suppress(Exception):
        await ConnackPacket.build(0, code).to_stream(writer)
    await _close(writer)


async def _close(writer: WriterAdapter) -> None:
    with contextlib.suppress(Exception):
        await writer.close()


class EmbeddedBroker:
    """An MQTT broker on host:port (port 0: a free one, see `port`), for `async with` or start()/stop()."""

    def __init__(self, host: str, port: int, authority: Authority) -> None:
        self.host = host
        self._port = port
        self.authority = authority
        self._broker: _GuardedBroker | None = None

    @property
    def port(self) -> int:
        """The port it listens on (the one chosen by the system when 0 was asked)."""
        if self._broker is None:
            return self._port
        server = self._broker._servers["default"].instance
        sockets = getattr(server, "sockets", None) or ()
        return int(sockets[0].getsockname()[1]) if sockets else self._port

    async def start(self) -> None:
        """Listens; raises OSError when the address cannot be bound."""
        if self._broker is not None:
            raise RuntimeError("the broker is already started")
        for name in QUIET_LOGGERS:  # a line per connection and state change, unless configured otherwise
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET:
                logger.setLevel(logging.WARNING)
        host = f"[{self.host}]" if ":" in self.host else self.host
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{host}:{self._port}"}},
            "plugins": {},  # no $SYS, no packet logging; the authority does authentication and topics
        }
        _probe(self.host, self._port)  # amqtt logs a traceback of its own for a taken port: ask first
        broker = _GuardedBroker(config, self.authority)
        try:
            await broker.start()
        except Exception as exc:
            await broker.plugins_manager.close()
            cause = exc.__cause__ if isinstance(exc.__cause__, OSError) else None
            if cause is not None:
                raise OSError(cause.errno, f"MQTT broker cannot listen on {host}:{self._port}: {cause}") from exc
            raise
        self._broker = broker
        log.info("MQTT broker listening on %s:%d", host, self.port)

    async def stop(self) -> None:
        """Closes every connection and the listening socket; waits for the connections' tasks to end."""
        broker, self._broker = self._broker, None
        if broker is None:
            return
        await broker.shutdown()
        for writer in broker.connections.values():  # e.g. one still to send its CONNECT
            writer.close()
        left = set(broker.connections)
        if left:
            _, pending = await asyncio.wait(left, timeout=_STOP_GRACE)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    async def __aenter__(self) -> EmbeddedBroker:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()


def _probe(host: str, port: int) -> None:
    """Raises OSError when host:port cannot be bound now (port 0 always can)."""
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise OSError(exc.errno, f"MQTT broker cannot listen on {host}:{port}: {exc.strerror}") from None
