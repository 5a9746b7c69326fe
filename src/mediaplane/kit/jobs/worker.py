"""Job workers: threads that take job ids from huey, claim the row, and run the job on their own loop.

Each worker thread keeps one asyncio event loop and one `Database` for its whole life (asyncpg
connections belong to the loop that opened them) and runs one job at a time. While a job runs, a
heartbeat on the same loop renews the lease, reads `cancel_requested` and flushes throttled progress.
One maintenance thread per process moves due delayed messages into the queue and reaps lost jobs.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from mediaplane.kit.clock import Clock
from mediaplane.kit.db import Database, create_database
from mediaplane.kit.jobs.context import JobContext
from mediaplane.kit.jobs.dispatch import Dispatcher
from mediaplane.kit.jobs.errors import JobCancelled, JobDeferred
from mediaplane.kit.jobs.registry import JobDefinition, JobRegistry
from mediaplane.kit.jobs.repository import ClaimedJob, JobRepository

log = logging.getLogger(__name__)
T = TypeVar("T")

# Why a running job stops before it returns.
CANCEL = "cancel"  # a cancel was requested: the row ends 'cancelled'
SHUTDOWN = "shutdown"  # this process is stopping: the job is handed back to the queue
LOST = "lost"  # the lease was taken over (we stalled past it): someone else owns the row now

MIN_POLL = 0.05  # idle polling of a non-blocking broker (SQLite) backs off from this ...
MAX_POLL = 0.5  # ... to this; a send in this process wakes idle workers at once
JOIN_TIMEOUT = 30.0  # how long stop() waits for a thread that ignores cancellation
STALE_BATCH = 100


@dataclass(frozen=True)
class WorkerConfig:
    database_url: str
    lease: timedelta
    retry_delay: timedelta
    max_retry_delay: timedelta
    shutdown_grace: timedelta
    cancel_poll: timedelta = timedelta(seconds=1)
    progress_interval: float = 1.0

    @property
    def renew_every(self) -> float:
        return self.lease.total_seconds() / 3

    @property
    def tick(self) -> float:
        """How often a running job's heartbeat wakes: to read its row for a cancel, or to renew the lease."""
        return min(self.cancel_poll.total_seconds(), self.renew_every)

    @property
    def reap_every(self) -> float:
        return min(5.0, self.lease.total_seconds() / 2)

    def backoff(self, attempt: int) -> timedelta:
        return min(self.retry_delay * 2 ** max(attempt - 1, 0), self.max_retry_delay)


class RunningJob:
    """A job in progress on one worker loop; other threads reach it only through the *_threadsafe methods."""

    def __init__(
        self,
        job_id: str,
        loop: asyncio.AbstractEventLoop,
        *,
        progress_writer: Callable[[float, dict[str, Any]], Awaitable[None]],
        progress_interval: float,
    ) -> None:
        self.job_id = job_id
        self.loop = loop
        self.task: asyncio.Task[Any] | None = None
        self.reason: str | None = None
        self.cancelled = asyncio.Event()
        self.poked = asyncio.Event()
        self._interval = progress_interval
        self._writer = progress_writer
        self._pending: tuple[float, dict[str, Any]] | None = None
        self._last_write = -float("inf")
        self.last_info: dict[str, Any] | None = None

    def stop(self, reason: str) -> None:
        """On the job's loop: the first reason wins and interrupts the job once (cleanup is not re-cancelled)."""
        if self.reason is not None:
            return
        self.reason = reason
        if reason == CANCEL:
            self.cancelled.set()
        if self.task is not None and not self.task.done():
            self.task.cancel(f"job {reason}")

    def stop_threadsafe(self, reason: str) -> None:
        with suppress(RuntimeError):  # the loop already closed: the job is over anyway
            self.loop.call_soon_threadsafe(self.stop, reason)

    def poke_threadsafe(self) -> None:
        """Makes the heartbeat read the row now (a cancel was just committed somewhere)."""
        with suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.poked.set)

    # progress: the job reports as often as it likes; the row is written at most every `interval`.

    async def report(self, percent: float, info: dict[str, Any]) -> None:
        self._pending = (percent, info)
        self.last_info = info or None
        if percent >= 100.0 or time.monotonic() - self._last_write >= self._interval:
            await self.flush_progress()

    async def flush_progress(self) -> None:
        if self._pending is None:
            return
        percent, info = self._pending
        self._pending = None
        self._last_write = time.monotonic()
        try:
            await self._writer(percent, info)
        except Exception:  # progress is advisory; the job goes on
            log.warning("could not record progress of job %s", self.job_id, exc_info=True)


class WorkerPool:
    """The worker threads of one process, plus its maintenance thread."""

    def __init__(
        self,
        *,
        dispatcher: Dispatcher,
        registry: JobRegistry,
        clock: Clock,
        resources: Any,
        config: WorkerConfig,
    ) -> None:
        self.dispatcher = dispatcher
        self.registry = registry
        self.clock = clock
        self.resources = resources
        self.config = config
        host = socket.gethostname()[:100]
        self.identity = f"{host}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.stopping = threading.Event()
        self.maintenance_stop = threading.Event()
        self._running: dict[str, RunningJob] = {}
        self._interrupting = False
        self._lock = threading.Lock()
        self._workers: list[_WorkerThread] = []
        self._maintenance: _MaintenanceThread | None = None

    def start(self, count: int) -> None:
        for index in range(count):
            thread = _WorkerThread(self, index + 1)
            self._workers.append(thread)
            thread.start()
        self._maintenance = _MaintenanceThread(self)
        self._maintenance.start()
        log.info("%d job workers started (%s)", count, self.identity)

    def running(self) -> list[str]:
        with self._lock:
            return list(self._running)

    def poke(self, job_id: str) -> None:
        with self._lock:
            handle = self._running.get(job_id)
        if handle is not None:
            handle.poke_threadsafe()

    def stop(self) -> None:
        """Blocking: no new jobs; running ones get the grace period, then are interrupted and handed back."""
        self.stopping.set()
        self.dispatcher.wake()
        deadline = time.monotonic() + self.config.shutdown_grace.total_seconds()
        for thread in self._workers:
            thread.join(max(deadline - time.monotonic(), 0))
        with self._lock:
            self._interrupting = True
            interrupted = list(self._running.values())
        for handle in interrupted:
            log.info("interrupting job %s for shutdown; it goes back to the queue", handle.job_id)
            handle.stop_threadsafe(SHUTDOWN)
        for thread in self._workers:
            thread.join(JOIN_TIMEOUT)
            if thread.is_alive():
                log.error("job worker %s did not stop; a job ignores cancellation", thread.name)
        self.maintenance_stop.set()
        if self._maintenance is not None:
            self._maintenance.join(JOIN_TIMEOUT)

    def track(self, handle: RunningJob) -> None:
        """On the job's loop. A job that starts after the grace period is handed back at once."""
        with self._lock:
            self._running[handle.job_id] = handle
            late = self._interrupting
        if late:
            handle.stop(SHUTDOWN)

    def untrack(self, handle: RunningJob) -> None:
        with self._lock:
            self._running.pop(handle.job_id, None)


class _LoopThread(threading.Thread):
    """A daemon thread owning one event loop and one Database until it ends."""

    def __init__(self, pool: WorkerPool, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.pool = pool

    def run(self) -> None:
        try:
            with asyncio.Runner() as runner:
                db = create_database(self.pool.config.database_url)
                try:
                    self.body(runner, db)
                finally:
                    runner.run(db.dispose())
        except Exception:
            log.exception("%s crashed", self.name)

    def body(self, runner: asyncio.Runner, db: Database) -> None:
        raise NotImplementedError

    async def write(self, db: Database, action: Callable[[JobRepository], Awaitable[T]], what: str) -> T | None:
        """One short transaction, tried a few times: the final state of a job is worth a retry."""
        for attempt in range(3):
            try:
                async with db.session() as session:
                    return await action(JobRepository(session))
            except Exception:
                log.warning("could not %s (try %d)", what, attempt + 1, exc_info=True)
                await asyncio.sleep(0.2 * 2**attempt)
        return None


class _WorkerThread(_LoopThread):
    def __init__(self, pool: WorkerPool, index: int) -> None:
        super().__init__(pool, f"job-worker-{index}")
        self.worker_id = f"{pool.identity}/{index}"

    def body(self, runner: asyncio.Runner, db: Database) -> None:
        pool, dispatcher = self.pool, self.pool.dispatcher
        delay = MIN_POLL
        while not pool.stopping.is_set():
            try:
                message = dispatcher.receive()
            except Exception:
                log.warning("could not read the job queue", exc_info=True)
                pool.stopping.wait(1.0)
                continue
            if message is None:
                if not dispatcher.blocking:
                    dispatcher.wait(delay)
                    delay = min(delay * 2, MAX_POLL)
                continue
            delay = MIN_POLL
            if pool.stopping.is_set():
                dispatcher.send(message.job_id, message.priority)  # not ours to start any more
                break
            try:
                runner.run(self.execute(db, message.job_id))
            except Exception:
                log.exception("job %s: unexpected error in the worker", message.job_id)

    async def execute(self, db: Database, job_id: str) -> None:
        pool, config, clock = self.pool, self.pool.config, self.pool.clock
        now = clock.now()
        try:
            async with db.session() as session:
                claimed = await JobRepository(session).claim(
                    job_id, worker=self.worker_id, now=now, lease_until=now + config.lease
                )
        except Exception:
            log.warning("job %s: could not claim it; the reaper will send it again", job_id, exc_info=True)
            return
        if claimed is None:
            log.debug("job %s: not claimable (taken, cancelled, gone or not due); message dropped", job_id)
            return
        definition = pool.registry.get(claimed.name)
        if definition is None:
            log.error("job %s: unknown job name %r", job_id, claimed.name)
            await self.write(
                db,
                lambda r: r.fail(job_id, self.worker_id, clock.now(), f"unknown job name: {claimed.name}"),
                f"fail job {job_id}",
            )
            return
        await self.run_job(db, claimed, definition)

    async def run_job(self, db: Database, claimed: ClaimedJob, definition: JobDefinition) -> None:
        pool = self.pool
        job_id, worker = claimed.id, self.worker_id

        async def write_progress(percent: float, info: dict[str, Any]) -> None:
            async with db.session() as session:
                await JobRepository(session).set_progress(job_id, worker, percent, info)

        handle = RunningJob(
            job_id,
            asyncio.get_running_loop(),
            progress_writer=write_progress,
            progress_interval=pool.config.progress_interval,
        )
        ctx = JobContext(
            job_id=job_id,
            name=claimed.name,
            attempt=claimed.attempt,
            max_attempts=claimed.max_attempts,
            args=claimed.args,
            resources=pool.resources,
            db=db,
            cancelled=handle.cancelled,
            progress_sink=handle.report,
        )
        log.info("job %s (%s) started, attempt %d/%d", job_id, claimed.name, claimed.attempt, claimed.max_attempts)
        handle.task = asyncio.create_task(self.call(definition, ctx), name=f"job-{job_id}")
        pool.track(handle)
        heartbeat = asyncio.create_task(self.heartbeat(db, handle))
        value: Any = None
        error: BaseException | None = None
        try:
            value = await handle.task
        except BaseException as exc:  # the job's outcome, whatever it is, decides the row's next state
            error = exc
        finally:
            heartbeat.cancel()
            try:
                await heartbeat
            except asyncio.CancelledError:
                pass
            except Exception:  # a bug in the heartbeat must not keep the job's outcome from being written
                log.exception("job %s: heartbeat failed", job_id)
            pool.untrack(handle)
        await self.settle(db, claimed, definition, handle, value, error)

    async def call(self, definition: JobDefinition, ctx: JobContext) -> Any:
        timeout = definition.timeout.total_seconds() if definition.timeout is not None else None
        async with asyncio.timeout(timeout):
            return await definition.function(ctx, **ctx.args)

    async def heartbeat(self, db: Database, handle: RunningJob) -> None:
        config, clock, worker = self.pool.config, self.pool.clock, self.worker_id
        next_renewal = time.monotonic() + config.renew_every
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(handle.poked.wait(), config.tick)
            handle.poked.clear()
            try:
                async with db.session() as session:
                    repository = JobRepository(session)
                    if time.monotonic() >= next_renewal:
                        state = await repository.renew(handle.job_id, worker, clock.now() + config.lease)
                        next_renewal = time.monotonic() + config.renew_every
                    else:
                        state = await repository.watch(handle.job_id, worker)
            except Exception:  # the database is away: keep trying; if the lease runs out, the reaper decides
                log.warning("job %s: heartbeat failed", handle.job_id, exc_info=True)
                continue
            if state is None:
                log.warning("job %s: its lease was taken over; stopping it here", handle.job_id)
                handle.stop(LOST)
                return
            if state:
                handle.stop(CANCEL)
            await handle.flush_progress()

    async def settle(
        self,
        db: Database,
        claimed: ClaimedJob,
        definition: JobDefinition,
        handle: RunningJob,
        value: Any,
        error: BaseException | None,
    ) -> None:
        """Writes the row's next state from how the job ended."""
        job_id, worker, clock = claimed.id, self.worker_id, self.pool.clock
        reason = handle.reason
        if reason == LOST:
            return
        if reason == CANCEL or isinstance(error, JobCancelled):
            await self.write(db, lambda r: r.mark_cancelled(job_id, worker, clock.now()), f"cancel job {job_id}")
            log.info("job %s cancelled", job_id)
            return
        if error is None:
            problem = _result_problem(value)
            if problem is None:
                info = handle.last_info
                await self.write(
                    db, lambda r: r.succeed(job_id, worker, clock.now(), value, info), f"finish job {job_id}"
                )
                log.info("job %s succeeded", job_id)
            else:
                await self.write(db, lambda r: r.fail(job_id, worker, clock.now(), problem), f"fail job {job_id}")
                log.error("job %s failed: %s", job_id, problem)
            return
        if isinstance(error, JobDeferred):
            run_at = clock.now() + timedelta(seconds=error.delay)
            deferred = await self.write(
                db, lambda r: r.release(job_id, worker, clock.now(), run_at), f"defer job {job_id}"
            )
            if deferred:
                self.pool.dispatcher.send(job_id, claimed.priority, run_at)
            elif deferred is False:
                await self.write(db, lambda r: r.mark_cancelled(job_id, worker, clock.now()), f"cancel {job_id}")
            return
        if reason == SHUTDOWN and isinstance(error, asyncio.CancelledError):
            released = await self.write(db, lambda r: r.release(job_id, worker, clock.now()), f"release {job_id}")
            if released:
                self.pool.dispatcher.send(job_id, claimed.priority)
            else:
                await self.write(db, lambda r: r.mark_cancelled(job_id, worker, clock.now()), f"cancel {job_id}")
            return
        await self.fail_or_retry(db, claimed, definition, error)

    async def fail_or_retry(
        self, db: Database, claimed: ClaimedJob, definition: JobDefinition, error: BaseException
    ) -> None:
        job_id, worker, clock, config = claimed.id, self.worker_id, self.pool.clock, self.pool.config
        message = _describe(error, definition)
        if claimed.attempt < claimed.max_attempts:
            run_at = clock.now() + config.backoff(claimed.attempt)
            retried = await self.write(
                db, lambda r: r.retry(job_id, worker, clock.now(), message, run_at), f"retry job {job_id}"
            )
            if retried:
                log.warning("job %s failed (attempt %d), retrying: %s", job_id, claimed.attempt, message)
                self.pool.dispatcher.send(job_id, claimed.priority, run_at)
                return
            if retried is False:  # a cancel came in while it failed
                await self.write(db, lambda r: r.mark_cancelled(job_id, worker, clock.now()), f"cancel {job_id}")
                return
        log.error("job %s failed after %d attempt(s): %s", job_id, claimed.attempt, message, exc_info=error)
        await self.write(db, lambda r: r.fail(job_id, worker, clock.now(), message), f"fail job {job_id}")


class _MaintenanceThread(_LoopThread):
    """Huey's scheduler (due delayed messages into the queue) and the reaper, once per process."""

    def __init__(self, pool: WorkerPool) -> None:
        super().__init__(pool, "job-maintenance")

    def body(self, runner: asyncio.Runner, db: Database) -> None:
        pool = self.pool
        next_reap = 0.0
        while not pool.maintenance_stop.is_set():
            try:
                pool.dispatcher.move_due()
            except Exception:
                log.warning("could not move due jobs into the queue", exc_info=True)
            if time.monotonic() >= next_reap:
                next_reap = time.monotonic() + pool.config.reap_every
                try:
                    runner.run(self.reap(db))
                except Exception:
                    log.warning("the job reaper failed; it runs again shortly", exc_info=True)
            pool.maintenance_stop.wait(min(0.5, pool.config.reap_every))

    async def reap(self, db: Database) -> None:
        pool, clock, config = self.pool, self.pool.clock, self.pool.config
        now = clock.now()
        async with db.session() as session:
            requeued = await JobRepository(session).reap_expired(now)
        for job_id, priority in requeued:
            log.warning("job %s: its worker was lost; queued again", job_id)
            pool.dispatcher.send(job_id, priority)
        if requeued or pool.dispatcher.pending() > 0:
            return
        async with db.session() as session:
            stale = await JobRepository(session).redispatch_stale(now, now - config.lease, STALE_BATCH)
        for job_id, priority in stale:
            log.info("job %s was due but not in the queue; sent again", job_id)
            pool.dispatcher.send(job_id, priority)


def _describe(error: BaseException, definition: JobDefinition) -> str:
    if isinstance(error, TimeoutError) and definition.timeout is not None:
        return f"timed out after {definition.timeout.total_seconds():g} s"
    if isinstance(error, asyncio.CancelledError):
        return "interrupted: CancelledError"
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _result_problem(value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        return f"job result must be a JSON object or None, not {type(value).__name__}"
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        return f"job result is not JSON: {exc}"
    return None
