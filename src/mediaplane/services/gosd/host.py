"""What a plan script may reach while it runs (luavm's LuaHost): its fleet's nodes through the MQTT link, the
job's log, the plan's and the job's files and extra. The script runs in a thread of its own; every call
here hops onto the job's event loop and waits there, and gives up at once when the job is killed."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, Literal, Protocol, TypeVar

from mediaplane.services.gosd.luavm.host import Killed
from mediaplane.services.gosd.mqtt.link import NodeLink

T = TypeVar("T")
Scope = Literal["plan", "job"]
WAIT_STEP = 0.2  # how often a waiting call looks at the kill flag
MAX_LOG = 1024 * 1024  # the log blob keeps its first MiB; then one line says what was cut


class FilesPort(Protocol):
    """The job runner's side of files (it owns the database and the storage); called on the job's loop."""

    async def read(self, scope: Scope, key: str) -> bytes | None: ...
    async def write(self, scope: Scope, key: str, data: bytes, filename: str) -> None: ...
    def url(self, scope: Scope, key: str) -> str | None: ...
    def listing(self, scope: Scope) -> dict[str, str]: ...


class ScriptHost:
    def __init__(
        self,
        *,
        loop: asyncio.AbstractEventLoop,
        link: NodeLink,
        node_id: int,
        fleet: set[int],
        files: FilesPort,
        plan_extra: dict[str, str],
        job_extra: dict[str, str],
        clock: Callable[[], str],
    ) -> None:
        self.loop = loop
        self.link = link
        self.node_id = node_id
        self.fleet = fleet
        self._files = files
        self._plan_extra = dict(plan_extra)
        self._job_extra = dict(job_extra)
        self._clock = clock
        self._kill = threading.Event()
        self.kill_reason = ""
        self._lines: list[str] = []
        self._size = 0
        self._cut = False
        self.job_extra_changed = False

    # Control, from the runner.
    def kill(self, reason: str) -> None:
        if not self._kill.is_set():
            self.kill_reason = reason
            self._kill.set()

    def killed(self) -> bool:
        return self._kill.is_set()

    def log_text(self) -> str:
        return "".join(self._lines)

    # Bridging.
    def _wait(self, coro: Coroutine[Any, Any, T]) -> T:
        if self._kill.is_set():
            coro.close()
            raise Killed(self.kill_reason or "Be killed")
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        while True:
            try:
                return future.result(timeout=WAIT_STEP)
            except concurrent.futures.TimeoutError:
                if self._kill.is_set():
                    future.cancel()
                    raise Killed(self.kill_reason or "Be killed") from None

    def _node(self, node_id: int) -> int:
        if node_id not in self.fleet:
            raise ValueError(f"no node {node_id} in this fleet")
        return node_id

    # LuaHost.
    def call(self, node_id: int, method: str, params: Any, timeout: float | None) -> Any:
        self.log("debug", f"rpc {method} → node {node_id}")
        return self._wait(self.link.call(self._node(node_id), method, params, timeout))

    def notify(self, node_id: int, method: str, params: Any) -> None:
        self._wait(self.link.notify(self._node(node_id), method, params))

    def status(self, node_id: int) -> dict[str, Any] | None:
        return self.link.status(self._node(node_id))

    def network(self, node_id: int) -> dict[str, Any] | None:
        return self.link.network(self._node(node_id))

    def message(self, node_id: int, name: str) -> Any | None:
        return self.link.message(self._node(node_id), name)

    def wait_message(self, node_id: int, name: str, timeout: float) -> Any | None:
        return self._wait(self.link.wait_message(self._node(node_id), name, timeout))

    def sleep(self, seconds: float) -> None:
        if self._kill.wait(max(0.0, seconds)):
            raise Killed(self.kill_reason or "Be killed")

    def log(self, level: str, text: str) -> None:
        line = f"{self._clock()} [{level}] {text}\n"
        if self._cut:
            return
        if self._size + len(line) > MAX_LOG:
            self._cut = True
            line = f"{self._clock()} [warn] the log is longer than {MAX_LOG} bytes: the rest is not kept\n"
        self._lines.append(line)
        self._size += len(line)

    def notification(self, level: int, text: str) -> None:
        self.log(f"notice{level}", text)

    def plan_extra(self) -> dict[str, str]:
        return dict(self._plan_extra)

    def job_extra(self) -> dict[str, str]:
        return dict(self._job_extra)

    def set_job_extra(self, key: str, value: str) -> None:
        self._job_extra[str(key)] = str(value)
        self.job_extra_changed = True

    def file(self, scope: Scope, key: str) -> bytes | None:
        return self._wait(self._files.read(scope, key))

    def set_file(self, scope: Scope, key: str, data: bytes, filename: str) -> None:
        self._wait(self._files.write(scope, key, data, filename))

    def file_url(self, scope: Scope, key: str) -> str | None:
        return self._files.url(scope, key)

    def files(self, scope: Scope) -> dict[str, str]:
        return self._files.listing(scope)


def now_text() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
