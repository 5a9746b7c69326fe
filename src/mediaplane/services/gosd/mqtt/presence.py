"""Node presence: each node's retained `nodes/{id}/status` (its last will says offline) kept in GosdNode.

Every serving process watches the statuses; a change of `online` is one conditional UPDATE, so when several
processes see the same status only the one whose UPDATE matched emits the node.online/node.offline webhook.
The UPDATE also requires that the stored status arrived no later than this one (`seen_at` is the arrival
time): a process that is behind does not replay an old status over a newer one another process stored (and
announce transitions twice). Clocks of different hosts must agree to within the time between two statuses.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from datetime import datetime
from typing import Any

import aiomqtt
from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.clock import utcnow
from mediaplane.services.gosd.models import GosdNode
from mediaplane.services.gosd.mqtt.authority import MAX_NODE_ID
from mediaplane.services.gosd.mqtt.client import Backoff, cancel_pending, cloud_client, describe
from mediaplane.services.gosd.mqtt.settings import Topics
from mediaplane.services.gosd.webhooks import emit

log = logging.getLogger(__name__)
MAX_WARNED = 10_000  # nodes whose bad payload was logged (then the set starts again)


def parse_status(payload: bytes) -> dict[str, Any] | None:
    """A status payload, `{"code": 0|1|2, "msg", "timestamp", "status": {…}}`, or None when it is not one."""
    try:
        data = json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    code = data.get("code")
    return data if isinstance(code, int) and not isinstance(code, bool) else None


class PresenceRepository:
    """The presence columns of gosd_nodes (by node id: ids are unique across instances)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def flip(self, node_id: int, online: bool, status: dict[str, Any], arrived: datetime) -> bool:
        """Stores the status and `online` only if `online` changes (and nothing newer is stored); whether it
        did."""
        result = await self.session.execute(
            update(GosdNode)
            .where(GosdNode.id == node_id, GosdNode.online != online, _not_newer(arrived))
            .values(online=online, status=status, seen_at=arrived)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def touch(self, node_id: int, status: dict[str, Any], arrived: datetime) -> bool:
        """Stores the status unless a newer one is; whether it did."""
        result = await self.session.execute(
            update(GosdNode)
            .where(GosdNode.id == node_id, _not_newer(arrived))
            .values(status=status, seen_at=arrived)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))

    async def exists(self, node_id: int) -> bool:
        return await self.session.scalar(select(GosdNode.id).where(GosdNode.id == node_id)) is not None

    async def online_ids(self) -> list[int]:
        return list((await self.session.scalars(select(GosdNode.id).where(GosdNode.online.is_(True)))).all())

    async def set_offline(self, node_id: int) -> bool:
        result = await self.session.execute(
            update(GosdNode)
            .where(GosdNode.id == node_id, GosdNode.online.is_(True))
            .values(online=False)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))


def _not_newer(arrived: datetime) -> Any:
    return or_(GosdNode.seen_at.is_(None), GosdNode.seen_at <= arrived)


async def _announce(session: AsyncSession, runtime: Runtime, node_id: int, online: bool) -> None:
    node = await session.get(GosdNode, node_id)
    instance = await session.get(Instance, node.instance_id) if node is not None else None
    if node is None or instance is None:
        return
    body = {"id": node.id, "name": node.name, "status": node.status}
    await emit(session, runtime, instance, "node.online" if online else "node.offline", node=body)


async def record_status(
    runtime: Runtime, node_id: int, status: dict[str, Any], arrived: datetime | None = None
) -> bool | None:
    """Stores a node's status that arrived at `arrived` (now): True when `online` changed (and the webhook
    is queued), False when not (or a newer status is stored), None for a node that does not exist."""
    online = status["code"] == 0
    arrived = arrived or utcnow()
    async with runtime.db.session() as session:
        repo = PresenceRepository(session)
        if await repo.flip(node_id, online, status, arrived):
            await _announce(session, runtime, node_id, online)
            return True
        if await repo.touch(node_id, status, arrived):
            return False
        return False if await repo.exists(node_id) else None


async def reset_presence(runtime: Runtime) -> int:
    """Marks every node offline (with the webhook): a broker that just started has no node connected, and
    the retained statuses of the one before are gone with it. Returns how many were online."""
    async with runtime.db.session() as session:
        repo = PresenceRepository(session)
        count = 0
        for node_id in await repo.online_ids():
            if await repo.set_offline(node_id):
                await _announce(session, runtime, node_id, online=False)
                count += 1
    return count


class ArrivalQueue(asyncio.Queue[aiomqtt.Message]):
    """aiomqtt's queue of received messages, noting when each came off the socket (not when it was taken)."""

    def __init__(self, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._arrivals: deque[datetime] = deque()
        self.arrived = utcnow()  # of the message taken last

    def _put(self, item: aiomqtt.Message) -> None:
        self._arrivals.append(utcnow())
        super()._put(item)

    def _get(self) -> aiomqtt.Message:
        self.arrived = self._arrivals.popleft()
        return super()._get()


class PresenceWatcher:
    """Subscribes to every node's status as the platform and records each one; reconnects with backoff."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.topics = Topics(runtime.settings.mqtt_topic_prefix)
        self.connected = asyncio.Event()  # set while subscribed (tests and health wait on it)
        self._warned: set[int] = set()

    async def run(self) -> None:
        """Until cancelled; never raises anything else."""
        backoff = Backoff()
        where = describe(self.runtime.settings)
        while True:
            try:
                queue = ArrivalQueue()
                async with cloud_client(self.runtime.settings, "mediaplane-presence", queue) as client:
                    await client.subscribe(self.topics.status("+"), qos=1)
                    if cancel_pending():  # swallowed by asyncio.wait_for in aiomqtt (Python 3.11)
                        raise asyncio.CancelledError
                    self.connected.set()
                    backoff.reset()
                    log.info("gosd presence: watching node statuses on %s", where)
                    async for message in client.messages:
                        payload = message.payload if isinstance(message.payload, bytes | bytearray) else b""
                        await self._handle(message.topic.value, bytes(payload), queue.arrived)
            except aiomqtt.MqttError as exc:
                log.warning("gosd presence: MQTT broker %s: %s", where, exc)
            except Exception:
                log.exception("gosd presence: watcher failed")
            self.connected.clear()
            if cancel_pending():
                raise asyncio.CancelledError
            delay = backoff.next()
            log.info("gosd presence: connecting again in %.1f s", delay)
            await asyncio.sleep(delay)

    async def _handle(self, topic: str, payload: bytes, arrived: datetime) -> None:
        found = self.topics.node_of(topic)
        if found is None or found[1] != "status" or found[0] > MAX_NODE_ID or not payload:
            return  # (an empty payload only clears a retained one)
        node_id = found[0]
        status = parse_status(payload)
        if status is None:
            if node_id not in self._warned:
                if len(self._warned) >= MAX_WARNED:
                    self._warned.clear()
                self._warned.add(node_id)
                log.warning('gosd presence: node %d sent a status that is not {"code": …}: %.200r', node_id, payload)
            return
        try:
            await record_status(self.runtime, node_id, status, arrived)
        except Exception:  # the database may be away for a moment; the next status comes later
            log.exception("gosd presence: storing the status of node %d failed", node_id)
