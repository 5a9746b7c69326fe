"""Huey as the dispatch engine: it carries job ids to workers, ordered by priority, and holds delayed ones.

The `jobs` table is the truth; a huey message is only a hint that a job may be ready. A message can be
duplicated or lost without harm: a worker claims the row before running it, and the reaper sends again
what is due but was never taken. So huey's storage layer is all we use (no huey tasks, results, pickles).

- embedded: `SqliteHuey`, a file `queue.db` in the data folder, shared by the processes on one machine;
- scale-out: `PriorityRedisHuey` when `settings.redis_url` is set.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from huey import Huey, PriorityRedisHuey, SqliteHuey
from redis import ConnectionPool

from mediaplane.config import Settings
from mediaplane.kit.clock import Clock

log = logging.getLogger(__name__)

QUEUE_FILE = "queue.db"
REDIS_READ_TIMEOUT = 0.5  # seconds a worker blocks on an empty Redis queue before it looks at its stop flag


@dataclass(frozen=True)
class Message:
    job_id: str
    priority: int

    def encode(self) -> bytes:
        return json.dumps({"id": self.job_id, "priority": self.priority}, separators=(",", ":")).encode()

    @classmethod
    def decode(cls, data: bytes | memoryview | str) -> Message | None:
        try:
            raw = bytes(data) if not isinstance(data, str) else data.encode()
            value = json.loads(raw)
            job_id, priority = value["id"], value["priority"]
        except (ValueError, TypeError, KeyError):
            return None
        if not isinstance(job_id, str) or not isinstance(priority, int):
            return None
        return cls(job_id, priority)


def create_huey(settings: Settings, name: str) -> Huey:
    """The huey instance for these settings: Redis when configured, else a SQLite file in the data folder."""
    if settings.redis_url:
        pool = ConnectionPool.from_url(
            settings.redis_url, socket_connect_timeout=5, socket_timeout=10, health_check_interval=30
        )
        return PriorityRedisHuey(
            name, results=False, connection_pool=pool, blocking=True, read_timeout=REDIS_READ_TIMEOUT
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, results=False, filename=str(settings.data_dir / QUEUE_FILE), timeout=30)


def _huey_time(moment: datetime) -> datetime:
    # huey (utc=True) keeps naive UTC datetimes in its schedule; both sides of a comparison use this form.
    return moment.astimezone(UTC).replace(tzinfo=None)


class Dispatcher:
    """Sends and receives job ids through huey's storage; wakes local idle workers on send."""

    def __init__(self, huey: Huey, clock: Clock) -> None:
        self.huey = huey
        self._storage: Any = huey.storage
        self._clock = clock
        self._wake = threading.Condition()

    @property
    def blocking(self) -> bool:
        """True when `receive` itself waits for a message (Redis); otherwise idle workers poll."""
        return bool(self._storage.blocking)

    def send(self, job_id: str, priority: int, run_at: datetime | None = None) -> bool:
        """Queues the id now, or in huey's schedule until `run_at`. Never raises: False when it failed,
        and the reaper sends the job again later."""
        data = Message(job_id, priority).encode()
        try:
            if run_at is not None and run_at > self._clock.now():
                self._storage.add_to_schedule(data, _huey_time(run_at))
            else:
                self._storage.enqueue(data, priority)
                self.wake(1)
        except Exception:  # any broker failure: the row stays queued and is sent again by the reaper
            log.warning("could not send job %s to the queue; it will be sent again later", job_id, exc_info=True)
            return False
        return True

    def receive(self) -> Message | None:
        """The next message, highest priority first; None when the queue is empty. Raises on broker errors."""
        data = self._storage.dequeue()
        if data is None:
            return None
        message = Message.decode(data)
        if message is None:
            log.warning("dropped a queue message that is not a job id: %r", bytes(data)[:100])
        return message

    def move_due(self) -> int:
        """Moves scheduled messages that are due into the queue (huey's scheduler, done by our maintenance)."""
        moved = 0
        for data in self._storage.read_schedule(_huey_time(self._clock.now())):
            message = Message.decode(data)
            if message is None:
                continue
            self._storage.enqueue(message.encode(), message.priority)
            moved += 1
        if moved:
            self.wake(moved)
        return moved

    def pending(self) -> int:
        """How many messages wait in the queue (not counting scheduled ones)."""
        return int(self._storage.queue_size())

    def scheduled(self) -> int:
        return int(self._storage.schedule_size())

    def ping(self) -> None:
        """Raises when the broker cannot be reached."""
        self._storage.queue_size()

    def wait(self, timeout: float) -> None:
        """Blocks an idle worker until a local send or stop wakes it, or `timeout` passes."""
        with self._wake:
            self._wake.wait(timeout)

    def wake(self, count: int | None = None) -> None:
        with self._wake:
            if count is None:
                self._wake.notify_all()
            else:
                self._wake.notify(count)

    def close(self) -> None:
        pool = getattr(self._storage, "pool", None)
        if isinstance(pool, ConnectionPool):
            pool.disconnect()
        else:
            self._storage.close()
