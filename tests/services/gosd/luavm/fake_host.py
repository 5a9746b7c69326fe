"""A LuaHost for the VM's tests: it records what the script did and answers from canned data."""

from __future__ import annotations

import threading
import time
from typing import Any

from mediaplane.services.gosd.luavm import Killed
from mediaplane.services.gosd.luavm.host import Scope
from mediaplane.services.gosd.mqtt.rpc import RpcFailed


class FakeHost:
    node_id = 7

    def __init__(self) -> None:
        self.calls: list[tuple[int, str, Any, float | None]] = []
        self.notified: list[tuple[int, str, Any]] = []
        self.answers: dict[str, Any] = {}  # method -> result, or an RpcFailed to raise
        self.delays: dict[str, float] = {}  # method -> seconds before it answers
        self.statuses: dict[int, dict[str, Any]] = {}
        self.networks: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, str], Any] = {}
        self.coming: dict[tuple[int, str], Any] = {}  # what wait_message gets
        self.lines: list[tuple[str, str]] = []
        self.notes: list[tuple[int, str]] = []
        self.slept: list[float] = []
        self.extra = {"plan": {"site": "north"}, "job": {"run": "1"}}
        self.stored: dict[Scope, dict[str, tuple[str, bytes]]] = {"plan": {}, "job": {}}
        self.stop = threading.Event()
        self.sleep_cap = 60.0  # sleep() waits at most this long

    def kill(self) -> None:
        self.stop.set()

    def killed(self) -> bool:
        return self.stop.is_set()

    def _blocking(self, seconds: float) -> None:
        if self.stop.wait(seconds):
            raise Killed("Be killed")

    def call(self, node_id: int, method: str, params: Any, timeout: float | None) -> Any:
        self.calls.append((node_id, method, params, timeout))
        self._blocking(self.delays.get(method, 0.0))
        answer = self.answers.get(method, {"done": method})
        if isinstance(answer, RpcFailed):
            raise answer
        return answer

    def notify(self, node_id: int, method: str, params: Any) -> None:
        self.notified.append((node_id, method, params))

    def status(self, node_id: int) -> dict[str, Any] | None:
        return self.statuses.get(node_id)

    def network(self, node_id: int) -> dict[str, Any] | None:
        return self.networks.get(node_id)

    def message(self, node_id: int, name: str) -> Any | None:
        return self.messages.get((node_id, name))

    def wait_message(self, node_id: int, name: str, timeout: float) -> Any | None:
        if (node_id, name) in self.coming:
            return self.coming[(node_id, name)]
        self._blocking(timeout)
        return None

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self._blocking(min(seconds, self.sleep_cap))

    def log(self, level: str, text: str) -> None:
        self.lines.append((level, text))

    def printed(self) -> list[str]:
        return [text for level, text in self.lines if level == "info"]

    def notification(self, level: int, text: str) -> None:
        self.notes.append((level, text))

    def plan_extra(self) -> dict[str, str]:
        return dict(self.extra["plan"])

    def job_extra(self) -> dict[str, str]:
        return dict(self.extra["job"])

    def set_job_extra(self, key: str, value: str) -> None:
        self.extra["job"][key] = value

    def file(self, scope: Scope, key: str) -> bytes | None:
        stored = self.stored[scope].get(key)
        return stored[1] if stored else None

    def set_file(self, scope: Scope, key: str, data: bytes, filename: str) -> None:
        self.stored[scope][key] = (filename, data)

    def file_url(self, scope: Scope, key: str) -> str | None:
        return f"http://files.test/{scope}/{key}" if key in self.stored[scope] else None

    def files(self, scope: Scope) -> dict[str, str]:
        return {key: str(number) for number, key in enumerate(sorted(self.stored[scope]), 1)}


def kill_after(host: FakeHost, seconds: float) -> threading.Timer:
    timer = threading.Timer(seconds, host.kill)
    timer.start()
    return timer


def elapsed(start: float) -> float:
    return time.monotonic() - start
