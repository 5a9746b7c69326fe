"""Backoff, state changes and reports of a sink, with scripted sessions (no network)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterable

import pytest
from kit_rtmp_support import StateLog, eventually

from mediaplane.kit.rtmp import RetryPolicy, Sink, SinkState
from mediaplane.kit.rtmp.runner import Notifier, SinkRunner
from mediaplane.kit.rtmp.supervision import RelayBase


class TestRetryPolicy:
    def test_schedule_grows_to_the_cap(self) -> None:
        policy = RetryPolicy(initial=1.0, factor=2.0, cap=30.0, jitter=0.3)
        delays = [policy.delay(n, random.Random(7)) for n in range(8)]
        bases = [1, 2, 4, 8, 16, 30, 30, 30]
        for delay, base in zip(delays, bases, strict=True):
            assert base * 0.7 <= delay <= base
        assert delays[:5] == sorted(delays[:5]) and len(set(delays[:5])) == 5

    def test_same_seed_same_schedule(self) -> None:
        policy = RetryPolicy()
        first, second = random.Random(42), random.Random(42)
        assert [policy.delay(n, first) for n in range(10)] == [policy.delay(n, second) for n in range(10)]

    def test_without_jitter(self) -> None:
        policy = RetryPolicy(initial=0.5, factor=3.0, cap=10.0, jitter=0.0)
        assert [policy.delay(n, random.Random()) for n in range(5)] == [0.5, 1.5, 4.5, 10.0, 10.0]

    def test_huge_attempt_numbers_stay_capped(self) -> None:
        assert RetryPolicy(cap=30.0, jitter=0.0).delay(10_000, random.Random()) == 30.0


class Scripted(SinkRunner):
    """Sessions that fail with the given errors, then stay live until stopped."""

    def __init__(self, sink: Sink, failures: list[str], live_first: bool = False, **kwargs: object) -> None:
        super().__init__(sink, **kwargs)  # type: ignore[arg-type]
        self.failures = failures
        self.live_first = live_first
        self.sessions = 0

    async def session(self) -> None:
        self.sessions += 1
        if self.live_first and self.sessions == 1:
            self.mark_live()
            self.sent(1000, 25)
            await asyncio.sleep(0.05)
            raise ConnectionResetError("reset by peer")
        if self.failures:
            raise OSError(self.failures.pop(0))
        self.mark_live()
        while not self.stopping.is_set():
            self.sent(500, 1)
            await asyncio.sleep(0.01)


class ScriptedRelay(RelayBase):
    def __init__(self, sinks: Iterable[Sink], failures: list[str], log: StateLog, **kwargs: object) -> None:
        self.failures = failures
        self.live_first = bool(kwargs.pop("live_first", False))
        super().__init__(
            sinks,
            on_state=log,
            policy=kwargs.pop("policy", RetryPolicy(initial=0.01, factor=2.0, cap=0.1, jitter=0.0)),  # type: ignore[arg-type]
            stale_after=10.0,
            stats_interval=float(kwargs.pop("stats_interval", 10.0)),  # type: ignore[arg-type]
            connect_timeout=10.0,
            rng=random.Random(1),
        )
        self.done = asyncio.Event()

    def _make_runner(self, sink: Sink) -> SinkRunner:
        return Scripted(
            sink,
            list(self.failures),
            self.live_first,
            policy=self.policy,
            notifier=self._notifier,
            rng=self._rng,
        )

    async def _serve(self) -> None:
        self._start_sinks()
        await self.done.wait()

    def _stopping(self) -> None:
        self.done.set()


async def run_until(relay: ScriptedRelay, predicate: object) -> None:
    task = asyncio.create_task(relay.run())
    try:
        await eventually(predicate)  # type: ignore[arg-type]
    finally:
        await relay.stop()
        await task


class TestSinkRunner:
    async def test_failures_then_live(self) -> None:
        log = StateLog()
        relay = ScriptedRelay([Sink("a", "rtmp://h/app/a")], ["refused", "refused", "timed out"], log)
        await run_until(relay, lambda: relay.states()[0].status == "live")
        assert log.statuses("a") == [
            "connecting",
            "error",
            "connecting",
            "error",
            "connecting",
            "error",
            "connecting",
            "live",
            "idle",
        ]
        errors = [s for s in log.of("a") if s.status == "error"]
        assert [e.last_error for e in errors] == ["refused", "refused", "timed out"]
        assert [e.retry_in for e in errors] == [0.01, 0.02, 0.04]
        final = log.latest("a")
        assert final is not None and final.status == "idle" and final.reconnects == 3 and final.retry_in is None

    async def test_previous_state_is_the_last_reported(self) -> None:
        log = StateLog()
        relay = ScriptedRelay([Sink("a", "rtmp://h/app/a")], ["refused"], log)
        await run_until(relay, lambda: relay.states()[0].status == "live")
        reported: SinkState | None = None
        for state, previous in log.calls:
            assert previous == reported
            reported = state
        assert all(s.since is not None and s.since.tzinfo is not None for s in log.of("a"))

    async def test_backoff_starts_over_after_a_long_live_spell(self) -> None:
        log = StateLog()
        policy = RetryPolicy(initial=0.01, factor=10.0, cap=5.0, jitter=0.0, reset_after=0.0)
        relay = ScriptedRelay([Sink("a", "rtmp://h/app/a")], ["x"], log, live_first=True, policy=policy)
        await run_until(relay, lambda: log.statuses("a")[-1:] == ["live"] and len(log.statuses("a")) > 3)
        errors = [s for s in log.of("a") if s.status == "error"]
        assert [e.retry_in for e in errors] == [0.01, 0.1]  # reset after live, then grows again

    async def test_bitrate_reports_while_live(self) -> None:
        log = StateLog()
        relay = ScriptedRelay([Sink("a", "rtmp://h/app/a")], [], log, stats_interval=0.1)
        await run_until(relay, lambda: sum(s.status == "live" for s in log.of("a")) >= 4)
        live = [s for s in log.of("a") if s.status == "live"]
        assert live[0].bitrate_kbps == 0.0
        assert all(s.bitrate_kbps > 0 for s in live[1:])
        assert [s.bytes_out for s in live] == sorted(s.bytes_out for s in live)

    async def test_a_failing_callback_is_logged_not_fatal(self, caplog: pytest.LogCaptureFixture) -> None:
        calls: list[str] = []

        async def broken(state: SinkState, previous: SinkState | None) -> None:
            calls.append(state.status)
            raise RuntimeError("callback bug")

        notifier = Notifier(broken)
        notifier.start()
        state = SinkState("a", "u", "live", None, 0.0, 0, 0, 0, None)
        notifier.push(state, None)
        notifier.push(state, state)
        await notifier.close()
        assert calls == ["live", "live"]
        assert "callback" in caplog.text

    async def test_set_sinks_adds_removes_and_restarts(self) -> None:
        log = StateLog()
        relay = ScriptedRelay([Sink("a", "rtmp://h/app/a"), Sink("b", "rtmp://h/app/b")], [], log)
        task = asyncio.create_task(relay.run())
        try:
            await eventually(lambda: [s.status for s in relay.states()] == ["live", "live"])
            relay.set_sinks([Sink("b", "rtmp://h/app/b2"), Sink("c", "rtmp://h/app/c")])
            assert {s.id for s in relay.states()} == {"b", "c"}
            await eventually(lambda: [s.status for s in relay.states()] == ["live", "live"])
        finally:
            await relay.stop()
            await task
        assert log.statuses("a") == ["connecting", "live", "idle"]
        b_urls = [(s.url, s.status) for s in log.of("b")]
        assert b_urls.index(("rtmp://h/app/b", "idle")) < b_urls.index(("rtmp://h/app/b2", "connecting"))
        assert all(s.status == "idle" for s in relay.states())

    def test_duplicate_ids_are_refused(self) -> None:
        with pytest.raises(ValueError, match="share the id"):
            ScriptedRelay([Sink("a", "rtmp://h/x/1"), Sink("a", "rtmp://h/x/2")], [], StateLog())
