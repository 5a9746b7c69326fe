"""Memory and CPU limits, and cancel: a script can neither outrun nor catch them."""

from __future__ import annotations

import threading
import time

import pytest

from mediaplane.services.gosd.luavm import Killed, Limits, ScriptError, run_script
from tests.services.gosd.luavm.fake_host import FakeHost

CPU = Limits(cpu_seconds=0.3)
SMALL = Limits(memory_bytes=16 * 1024 * 1024)
SPINS = [
    "while true do end",
    "local co = coroutine.create(function() while true do end end) print(coroutine.resume(co)) while true do end",
    "coroutine.wrap(function() while true do end end)()",
    "while true do pcall(function() while true do end end) end",
    "while true do xpcall(function() while true do end end, function() while true do end end) end",
    "local f = coroutine.wrap(function() while true do pcall(coroutine.yield) end end) while true do pcall(f) end",
    'while true do pcall(string.rep, "x", 10) end',
]


def timed(source: str, host: FakeHost, limits: Limits = Limits()) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        run_script(source, host, limits=limits)
    except (ScriptError, Killed) as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


def kill_after(host: FakeHost, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, host.kill)
    timer.start()
    return timer


@pytest.mark.parametrize("source", SPINS)
def test_the_cpu_limit_stops_any_loop(host: FakeHost, source: str) -> None:
    error, _ = timed(source, host, CPU)  # pytest-timeout fails a loop the limit does not stop
    assert isinstance(error, ScriptError)
    assert str(error) == "the script used more than 0.3 s of CPU"


@pytest.mark.parametrize("source", SPINS)
def test_a_cancel_stops_any_loop(host: FakeHost, source: str) -> None:
    kill_after(host, 0.2)
    error, _ = timed(source, host)
    assert isinstance(error, Killed)


def test_waiting_in_the_host_costs_no_cpu(host: FakeHost) -> None:
    error, _ = timed('sleep("0.5s") print("woke")', host, CPU)
    assert error is None and host.printed() == ["woke"]


def test_a_cancel_ends_blocking_calls_and_the_script_sees_be_killed(host: FakeHost) -> None:
    host.delays["startmission"] = 30
    kill_after(host, 0.2)
    error, took = timed(
        """
        local ok, err = pcall(function() NewNode(7):SyncCall("startmission") end)
        print("after the kill:", err)
        """,
        host,
    )
    assert isinstance(error, Killed) and took < 20  # not the 30 s the call takes
    assert host.printed() == []  # pcall could not hold it back


def test_killed_wins_even_when_the_script_ends_normally(host: FakeHost) -> None:
    """The kill is raised again at the script's next instruction check; a script that ends first is still Killed."""
    kill_after(host, 0.1)
    error, _ = timed("local ok = pcall(sleep, 10)", host)
    assert isinstance(error, Killed)


def test_a_cancel_ends_the_wait_for_an_async_answer(host: FakeHost) -> None:
    host.delays["mission_upload_nas"] = 30
    kill_after(host, 0.2)
    error, took = timed('local p = NewNode(7):AsyncCall("mission_upload_nas") p()', host)
    assert isinstance(error, Killed) and took < 20  # not the 30 s the answer takes


def test_a_cancel_ends_sleep_and_wait_msg(host: FakeHost) -> None:
    kill_after(host, 0.1)
    error, took = timed('NewNode(7):WaitMsg("position", 30)', host)
    assert isinstance(error, Killed) and took < 20  # not the 30 s of the wait


@pytest.mark.parametrize(
    "source",
    [
        "local t = {} while true do t[#t + 1] = {} end",
        'local s = "x" while true do s = s .. s end',
        'local big = string.rep("x", 64 * 1024 * 1024)',
        "local t = {} for i = 1, 40 do t[i] = json.decode(json.encode(string.rep('y', 1000000))) end",
        # caught, the memory error still ends the run
        "local ok = pcall(function() local t = {} while true do t[#t + 1] = {} end end) print(ok) while true do end",
    ],
)
def test_the_memory_limit_stops_a_bomb(host: FakeHost, source: str) -> None:
    error, _ = timed(source, host, SMALL)
    assert isinstance(error, ScriptError)
    assert str(error) == "the script used more than 16 MiB of memory"
    assert host.printed() == []


def test_a_script_within_its_limits_runs_to_the_end(host: FakeHost) -> None:
    error, _ = timed(
        "local n = 0 for i = 1, 2000000 do n = n + i end local t = {} for i = 1, 10000 do t[i] = i end print(n)",
        host,
        Limits(cpu_seconds=5, memory_bytes=16 * 1024 * 1024),
    )
    assert error is None and host.printed() == ["2000001000000"]
