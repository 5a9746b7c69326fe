"""The job queue facade: enqueue in the caller's transaction, dispatch after its commit, cancel, run workers."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import AbstractAsyncContextManager, suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from huey import Huey
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

from mediaplane.config import Settings
from mediaplane.kit.clock import Clock
from mediaplane.kit.db import Database
from mediaplane.kit.jobs.dispatch import Dispatcher, create_huey
from mediaplane.kit.jobs.errors import JobError
from mediaplane.kit.jobs.models import JobRecord
from mediaplane.kit.jobs.registry import JobRegistry, default_registry
from mediaplane.kit.jobs.repository import JobRepository
from mediaplane.kit.jobs.worker import WorkerConfig, WorkerPool

log = logging.getLogger(__name__)

CANCEL_CHANNEL = "jobs.cancel"
DEFAULT_QUEUE_NAME = "mediaplane"


class EventBusLike(Protocol):
    """What the queue uses of `kit.events.EventBus`: cancel hints between processes, never the truth."""

    async def publish(self, channel: str, message: dict[str, Any]) -> None: ...

    def subscribe(self, channel: str) -> AbstractAsyncContextManager[AsyncIterator[dict[str, Any]]]: ...


@dataclass
class _AfterCommit:
    """What a session's transaction has asked for once it commits; dropped when it rolls back."""

    sends: list[tuple[str, int, datetime]] = field(default_factory=list)
    cancels: list[str] = field(default_factory=list)

    def take(self) -> tuple[list[tuple[str, int, datetime]], list[str]]:
        sends, cancels = self.sends, self.cancels
        self.sends, self.cancels = [], []
        return sends, cancels


class JobQueue:
    """Durable jobs: rows in `jobs` are the truth, huey carries their ids to worker threads.

    Build it with `create_job_queue`. Every method that takes a session works inside the caller's
    transaction and never commits; messages go out only after that transaction commits.
    """

    def __init__(
        self,
        *,
        db: Database,
        dispatcher: Dispatcher,
        clock: Clock,
        config: WorkerConfig,
        registry: JobRegistry,
        events: EventBusLike | None = None,
        resources: Any = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.registry = registry
        self._dispatcher = dispatcher
        self._config = config
        self._events = events
        self._resources = resources
        self._pool: WorkerPool | None = None
        self._listener: asyncio.Task[None] | None = None
        self._publishing: set[asyncio.Task[None]] = set()
        self._closed = False
        self._key = f"mediaplane.kit.jobs:{id(self)}"

    @property
    def huey(self) -> Huey:
        """The huey instance that carries job ids (for operators and tests; do not enqueue on it)."""
        return self._dispatcher.huey

    # -- in a request: the caller's session ----------------------------------------------------------

    async def enqueue(
        self,
        session: AsyncSession,
        name: str,
        args: Mapping[str, Any] | None = None,
        *,
        priority: int = 0,
        scope: str | None = None,
        delay: timedelta | float | None = None,
        max_attempts: int | None = None,
    ) -> JobRecord:
        """Adds a queued job to the caller's transaction and returns the flushed row.

        The job is sent to the workers only after that transaction commits, and never if it rolls back.
        `priority`: higher runs first. `scope`: an owner id, for `cancel_scope`. `delay`: not before now +
        delay. `max_attempts` overrides the job's default. Raises UnknownJobError for an unregistered name
        and TypeError when `args` do not fit the job function or are not JSON.
        """
        definition = self.registry.require(name)
        values = dict(args or {})
        definition.check_args(values)
        try:
            json.dumps(values)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"job {name}: arguments must be JSON: {exc}") from None
        attempts = definition.max_attempts if max_attempts is None else max_attempts
        if attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        wait = timedelta(seconds=delay) if isinstance(delay, int | float) else (delay or timedelta(0))
        if wait < timedelta(0):
            raise ValueError("delay cannot be negative")
        now = self.clock.now()
        run_at = now + wait
        record = JobRecord(
            name=name,
            args=values,
            scope=scope,
            state="queued",
            priority=priority,
            attempts=0,
            max_attempts=attempts,
            run_at=run_at,
            dispatched_at=run_at,
            cancel_requested=False,
            created_at=now,
            updated_at=now,
        )
        session.add(record)
        await session.flush()
        self._after_commit(session).sends.append((record.id, priority, run_at))
        return record

    async def get(self, session: AsyncSession, job_id: str) -> JobRecord | None:
        return await JobRepository(session).get(job_id)

    async def cancel(self, session: AsyncSession, job_id: str) -> JobRecord | None:
        """Cancels a job: a queued one at once; a running one is asked to stop (its row says
        cancel_requested until the worker ends it as 'cancelled', within a second or two after commit).
        A finished job is left as it is. Returns the row as it is now, or None when there is no such job."""
        repository = JobRepository(session)
        _, requested = await repository.cancel(job_id, self.clock.now())
        self._after_commit(session).cancels.extend(requested)
        return await repository.reload(job_id)

    async def cancel_scope(self, session: AsyncSession, scope: str) -> int:
        """Cancels every queued or running job of a scope, as `cancel` does; returns how many."""
        cancelled, requested = await JobRepository(session).cancel_scope(scope, self.clock.now())
        self._after_commit(session).cancels.extend(requested)
        return len(cancelled) + len(requested)

    # -- workers -------------------------------------------------------------------------------------

    def start_workers(self, count: int) -> None:
        """Starts `count` worker threads in this process (and its maintenance: delayed jobs, reaper)."""
        if count < 1:
            raise ValueError("start at least one worker")
        if self._closed:
            raise JobError("the job queue is closed")
        if self._pool is not None:
            raise JobError("workers are already running")
        self._pool = WorkerPool(
            dispatcher=self._dispatcher,
            registry=self.registry,
            clock=self.clock,
            resources=self._resources,
            config=self._config,
        )
        self._pool.start(count)
        if self._events is not None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return  # no loop to listen on: cancel requests are still seen by polling
            self._listener = loop.create_task(self._listen_for_cancels(self._events))

    async def counts(self, session: AsyncSession) -> list[tuple[str, str, int]]:
        return await JobRepository(session).counts()

    async def ping(self) -> None:
        """Raises when the dispatch engine (Redis or the queue file) cannot be reached."""
        await asyncio.to_thread(self._dispatcher.ping)

    async def close(self) -> None:
        """Stops the workers (running jobs get the grace period, then go back to the queue) and the broker."""
        if self._closed:
            return
        self._closed = True
        if self._listener is not None:
            self._listener.cancel()
            with suppress(asyncio.CancelledError):
                await self._listener
        if self._pool is not None:
            await asyncio.to_thread(self._pool.stop)
        if self._publishing:
            await asyncio.gather(*self._publishing, return_exceptions=True)
        self._dispatcher.close()

    # -- after commit --------------------------------------------------------------------------------

    def _after_commit(self, session: AsyncSession) -> _AfterCommit:
        sync = session.sync_session
        pending = sync.info.get(self._key)
        if isinstance(pending, _AfterCommit):
            return pending
        pending = _AfterCommit()
        sync.info[self._key] = pending

        def after_commit(committed: Session) -> None:
            if committed.in_nested_transaction():
                return  # a savepoint was released; the real commit comes later
            sends, cancels = pending.take()
            self._flush(sends, cancels)

        def after_transaction_end(_: Session, transaction: SessionTransaction) -> None:
            # The outermost transaction is over: after a commit the lists are already empty; after a
            # rollback (or a close without commit) nothing of it may go out. Jobs whose savepoint rolled
            # back are still sent at commit, and are dropped by the worker's claim: their rows do not exist.
            if transaction.parent is None:
                pending.take()

        event.listen(sync, "after_commit", after_commit)
        event.listen(sync, "after_transaction_end", after_transaction_end)
        return pending

    def _flush(self, sends: list[tuple[str, int, datetime]], cancels: list[str]) -> None:
        for job_id, priority, run_at in sends:
            self._dispatcher.send(job_id, priority, run_at)
        if not cancels:
            return
        if self._pool is not None:
            for job_id in cancels:
                self._pool.poke(job_id)
        if self._events is not None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            task = loop.create_task(self._publish_cancels(self._events, cancels))
            self._publishing.add(task)
            task.add_done_callback(self._publishing.discard)

    async def _publish_cancels(self, events: EventBusLike, job_ids: list[str]) -> None:
        for job_id in job_ids:
            try:
                await events.publish(CANCEL_CHANNEL, {"job_id": job_id})
            except Exception:  # a hint only: workers see the request by polling anyway
                log.warning("could not publish the cancel of job %s", job_id, exc_info=True)

    async def _listen_for_cancels(self, events: EventBusLike) -> None:
        try:
            async with events.subscribe(CANCEL_CHANNEL) as subscription:
                async for message in subscription:
                    job_id = message.get("job_id") if isinstance(message, dict) else None
                    if isinstance(job_id, str) and self._pool is not None:
                        self._pool.poke(job_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.warning("stopped listening for job cancels on the event bus; polling continues", exc_info=True)


def create_job_queue(
    settings: Settings,
    db: Database,
    *,
    events: EventBusLike | None = None,
    clock: Clock | None = None,
    resources: Any = None,
    name: str = DEFAULT_QUEUE_NAME,
    registry: JobRegistry | None = None,
    retry_delay: timedelta = timedelta(seconds=2),
    max_retry_delay: timedelta = timedelta(minutes=5),
    shutdown_grace: timedelta = timedelta(seconds=10),
    cancel_poll: timedelta = timedelta(seconds=1),
) -> JobQueue:
    """The queue for these settings: Redis dispatch when `settings.redis_url` is set, else a SQLite file.

    `settings.job_lease` is how long a worker may go silent before its job is taken over. A failed job is
    retried after `retry_delay`, doubling each time up to `max_retry_delay`. `name` separates queues that
    share a broker. `resources` is handed to jobs as `ctx.resources`. A running job's row is read for a
    cancel request every `cancel_poll` (and at once when `events` carries a cancel from another process).
    On close, running jobs get `shutdown_grace` to finish before they are handed back to the queue.
    """
    clock = clock or Clock()
    config = WorkerConfig(
        database_url=db.engine.url.render_as_string(hide_password=False),
        lease=settings.job_lease,
        retry_delay=retry_delay,
        max_retry_delay=max_retry_delay,
        shutdown_grace=shutdown_grace,
        cancel_poll=cancel_poll,
    )
    if config.lease <= timedelta(0):
        raise ValueError("job_lease must be positive")
    return JobQueue(
        db=db,
        dispatcher=Dispatcher(create_huey(settings, name), clock),
        clock=clock,
        config=config,
        registry=registry or default_registry,
        events=events,
        resources=resources,
    )
