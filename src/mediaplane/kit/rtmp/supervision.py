"""What both relay engines share: their sinks' runners, set_sinks, run/stop, and the watchdog.

Every tick the watchdog samples each sink's bitrate (reported every ``stats_interval`` while live),
restarts a live sink that sent nothing for ``stale_after`` seconds while the source flows, and one that
is still not live ``connect_timeout`` seconds after it began connecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable

from mediaplane.kit.rtmp.runner import Notifier, SinkRunner
from mediaplane.kit.rtmp.sinks import RetryPolicy, Sink, SinkState, StateCallback

__all__ = ["RelayBase"]

END_GRACE = 2.0
"""Seconds each sink has to send what it holds and close politely once the source ended."""
STOP_GRACE = 0.75
"""The same after :meth:`RelayBase.stop`, which should return promptly."""
REPORT_WAIT = 0.5
"""Seconds the last state reports may take to deliver at the end."""


class RelayBase(ABC):
    """Sinks, their runners and reports, and the watchdog; engines add the media."""

    def __init__(
        self,
        sinks: Iterable[Sink],
        *,
        on_state: StateCallback | None,
        policy: RetryPolicy,
        stale_after: float,
        stats_interval: float,
        connect_timeout: float,
        rng: random.Random | None,
    ) -> None:
        self.policy = policy
        self.stale_after = stale_after
        self.stats_interval = stats_interval
        self.connect_timeout = connect_timeout
        self._rng = rng or random.Random()
        self._notifier = Notifier(on_state)
        self._runners: dict[str, SinkRunner] = {}
        self._retiring: dict[asyncio.Task[None], SinkRunner] = {}
        self._sinks_started = False
        self._running = False
        self._stop = asyncio.Event()
        self._finished = asyncio.Event()
        for sink in _unique(sinks):
            self._runners[sink.id] = self._make_runner(sink)

    # -- engines ---------------------------------------------------------------------------------

    @abstractmethod
    def _make_runner(self, sink: Sink) -> SinkRunner: ...

    @abstractmethod
    async def _serve(self) -> None:
        """The engine's part of :meth:`run`: returns when the source ended or :meth:`stop` was called."""

    def _source_flowing(self, now: float) -> bool:
        """Whether media came from the source within ``stale_after`` seconds."""
        return True

    def _tick(self, now: float) -> None:  # noqa: B027 - optional hook
        """Engine checks every watchdog tick."""

    def _stopping(self) -> None:  # noqa: B027 - optional hook
        """Called once when :meth:`stop` is asked: wake :meth:`_serve`."""

    # -- public ----------------------------------------------------------------------------------

    def set_sinks(self, sinks: Iterable[Sink]) -> None:
        """Add new sinks, remove (and close) those not listed, restart those whose URL changed."""
        wanted = {sink.id: sink for sink in _unique(sinks)}
        for sink_id, runner in list(self._runners.items()):
            if sink_id not in wanted or wanted[sink_id].url != runner.sink.url:
                del self._runners[sink_id]
                self._retire(runner)
        for sink_id, sink in wanted.items():
            if sink_id not in self._runners:
                runner = self._runners[sink_id] = self._make_runner(sink)
                if self._sinks_started and not self._stop.is_set():
                    runner.start()

    def states(self) -> list[SinkState]:
        return [runner.state() for runner in self._runners.values()]

    async def run(self) -> None:
        """Relay until the source ends or :meth:`stop`; every sink ends ``idle``."""
        if self._running or self._finished.is_set():
            raise RuntimeError("a relay runs once")
        self._running = True
        self._notifier.start()
        watchdog = asyncio.create_task(self._watch(), name="relay watchdog")
        try:
            await self._serve()
        finally:
            watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watchdog
            # Sinks still flushing when stop() comes are cut after STOP_GRACE, removed ones included.
            grace = STOP_GRACE if self._stop.is_set() else END_GRACE
            runners = [*self._runners.values(), *self._retiring.values()]
            await asyncio.gather(*(runner.stop(grace) for runner in runners), *self._retiring)
            await self._notifier.close(REPORT_WAIT)
            self._finished.set()

    async def stop(self) -> None:
        """Stop relaying and wait until :meth:`run` has closed every sink."""
        if not self._stop.is_set():
            self._stop.set()
            self._stopping()
        if self._running:
            await self._finished.wait()

    # -- inside ----------------------------------------------------------------------------------

    def _start_sinks(self) -> None:
        if not self._sinks_started:
            self._sinks_started = True
            for runner in self._runners.values():
                runner.start()

    def _retire(self, runner: SinkRunner) -> None:
        runner.retire()
        if runner.running:
            task = asyncio.create_task(runner.stop(END_GRACE), name=f"relay sink {runner.sink.id} removal")
            self._retiring[task] = runner
            task.add_done_callback(self._retiring.pop)

    async def _watch(self) -> None:
        period = max(0.05, min(0.5, self.stale_after / 4, self.stats_interval / 2))
        while True:
            await asyncio.sleep(period)
            now = time.monotonic()
            flowing = self._source_flowing(now)
            for runner in list(self._runners.values()):
                runner.sample(now, self.stats_interval)
                if runner.status == "live" and flowing and now - runner.last_output > self.stale_after:
                    runner.kick(f"stale: nothing sent for {self.stale_after:g}s")
                elif runner.status == "connecting" and now - runner.status_at > self.connect_timeout:
                    runner.kick(f"not live within {self.connect_timeout:g}s")
            self._tick(now)


def _unique(sinks: Iterable[Sink]) -> list[Sink]:
    seen: dict[str, Sink] = {}
    for sink in sinks:
        if sink.id in seen:
            raise ValueError(f"two sinks share the id {sink.id!r}")
        seen[sink.id] = sink
    return list(seen.values())
