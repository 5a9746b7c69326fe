"""One sink's life in a relay: sessions one after another with backoff between them, and its reports.

The runner's task repeats *sessions* (one connection, or one FFmpeg process) until it is stopped:
``connecting`` → ``live`` once bytes flow → ``error`` with ``last_error`` while it waits to retry →
``connecting`` … and ``idle`` at the end. State changes and periodic statistics go to ``on_state``
from one notifier task, in order, so a slow or failing callback never holds back the media.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from abc import ABC, abstractmethod
from datetime import datetime

from mediaplane.kit.clock import utcnow
from mediaplane.kit.rtmp.sinks import RetryPolicy, Sink, SinkState, StateCallback, Status

__all__ = ["Notifier", "SinkRunner", "describe"]

log = logging.getLogger(__name__)


class Notifier:
    """Hands states to ``on_state`` in order from its own task and logs what the callback raises."""

    def __init__(self, callback: StateCallback | None) -> None:
        self._callback = callback
        self._queue: asyncio.Queue[tuple[SinkState, SinkState | None] | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._callback is not None and self._task is None:
            self._task = asyncio.create_task(self._deliver(), name="relay state reports")

    def push(self, state: SinkState, previous: SinkState | None) -> None:
        if self._callback is not None:
            self._queue.put_nowait((state, previous))

    async def _deliver(self) -> None:
        assert self._callback is not None
        while (item := await self._queue.get()) is not None:
            try:
                await self._callback(*item)
            except Exception:
                log.exception("the relay's on_state callback failed for sink %s", item[0].id)

    async def close(self, within: float | None = None) -> None:
        """Deliver what is queued, then stop; after ``within`` seconds the rest is dropped, so a callback
        that hangs cannot hold up its relay's end."""
        task = self._task
        if task is None:
            return
        self._task = None
        self._queue.put_nowait(None)
        try:
            await asyncio.wait_for(asyncio.shield(task), within)
        except TimeoutError:
            log.warning("the relay's on_state callback took over %gs; %d reports dropped", within, self._queue.qsize())
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def describe(error: BaseException) -> str:
    text = str(error).strip()
    return text or type(error).__name__


class SinkRunner(ABC):
    """One sink's life: sessions one after another, with backoff between them, until stopped."""

    def __init__(self, sink: Sink, *, policy: RetryPolicy, notifier: Notifier, rng: random.Random) -> None:
        self.sink = sink
        self.policy = policy
        self.status: Status = "idle"
        self.last_error: str | None = None
        self.reconnects = 0
        self.bytes_out = 0
        self.frames_out = 0
        self.dropped = 0
        self.bitrate_kbps = 0.0
        self.since: datetime | None = None
        self.retry_in: float | None = None
        self.last_output = 0.0
        """time.monotonic() of the last bytes sent."""
        self.status_at = time.monotonic()
        self._notifier = notifier
        self._rng = rng
        self._reported: SinkState | None = None
        self._retired = False
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._session: asyncio.Task[None] | None = None
        self._kicked: str | None = None
        self._sample_at = time.monotonic()
        self._sample_bytes = 0

    # -- what an engine implements ---------------------------------------------------------------

    @abstractmethod
    async def session(self) -> None:
        """One connection; returns when :attr:`stopping` is set, raises when it fails.

        Calls :meth:`mark_live` once media flows and :meth:`sent` after each write.
        """

    def wake(self) -> None:  # noqa: B027 - optional hook
        """Called when the runner is asked to stop, for a session that waits on something else."""

    # -- state -----------------------------------------------------------------------------------

    @property
    def stopping(self) -> asyncio.Event:
        return self._stopping

    def state(self) -> SinkState:
        return SinkState(
            id=self.sink.id,
            url=self.sink.url,
            status=self.status,
            last_error=self.last_error,
            bitrate_kbps=round(self.bitrate_kbps, 1) if self.status == "live" else 0.0,
            reconnects=self.reconnects,
            bytes_out=self.bytes_out,
            frames_out=self.frames_out,
            since=self.since,
            retry_in=self.retry_in,
            dropped=self.dropped,
        )

    def _report(self) -> None:
        if self._retired:
            return
        state = self.state()
        self._notifier.push(state, self._reported)
        self._reported = state

    def _set(self, status: Status, *, error: str | None = None, retry_in: float | None = None) -> None:
        if status == self.status and status != "error":
            return
        self.status = status
        self.status_at = time.monotonic()
        self.since = utcnow()
        self.retry_in = retry_in
        if status == "error":
            self.last_error = error
        if status == "live":
            self._sample_at, self._sample_bytes = time.monotonic(), self.bytes_out
        self._report()

    def mark_live(self) -> None:
        self.last_output = time.monotonic()
        self._set("live")

    def sent(self, size: int, frames: int = 0) -> None:
        self.bytes_out += size
        self.frames_out += frames
        if size:
            self.last_output = time.monotonic()

    def sample(self, now: float, interval: float) -> None:
        """Every ``interval`` seconds while live: the bitrate of the last interval, reported."""
        if self.status != "live" or now - self._sample_at < interval:
            return
        elapsed = now - self._sample_at
        self.bitrate_kbps = (self.bytes_out - self._sample_bytes) * 8 / 1000 / elapsed
        self._sample_at, self._sample_bytes = now, self.bytes_out
        self._report()

    # -- life ------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        if self._task is None and not self._stopping.is_set():
            self._task = asyncio.create_task(self._supervise(), name=f"relay sink {self.sink.id}")

    def kick(self, reason: str) -> None:
        """End the current session now (a stale or stuck connection); the runner retries as after a failure."""
        if self._session is not None and not self._session.done():
            self._kicked = reason
            self._session.cancel()

    async def stop(self, grace: float = 5.0) -> None:
        """Stop: the session ends politely within ``grace`` seconds, or is cancelled."""
        self._stopping.set()
        self.wake()
        task = self._task
        if task is None:
            self._set("idle")
            return
        try:
            await asyncio.wait_for(asyncio.shield(task), grace)
        except TimeoutError:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    def retire(self) -> None:
        """Removed from the relay: reported ``idle`` now, and nothing after that."""
        self._stopping.set()
        self.wake()
        self._set("idle")
        self._retired = True

    async def _supervise(self) -> None:
        attempt = 0
        try:
            while not self._stopping.is_set():
                if self._reported is not None and self.status != "idle":
                    self.reconnects += 1
                self._set("connecting")
                error = await self._one_session()
                if self._stopping.is_set():
                    break
                if self.status == "live" and time.monotonic() - self.status_at >= self.policy.reset_after:
                    attempt = 0
                delay = self.policy.delay(attempt, self._rng)
                attempt += 1
                self._set("error", error=error, retry_in=round(delay, 3))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
        finally:
            self._set("idle")

    async def _one_session(self) -> str:
        """Run a session; what went wrong, in words."""
        self._kicked = None
        self._session = asyncio.create_task(self.session(), name=f"relay sink {self.sink.id} session")
        try:
            await asyncio.wait({self._session})
        except asyncio.CancelledError:
            self._session.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._session
            raise
        if self._session.cancelled():
            return self._kicked or "the session was cancelled"
        error = self._session.exception()
        if error is None:
            return "the destination ended the stream"
        if not isinstance(error, Exception):
            raise error
        log.info("sink %s: %s", self.sink.id, describe(error))
        return describe(error)
