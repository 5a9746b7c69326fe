"""The Python side of the plan API: each function takes what the script passed (Lua values) and answers
(True, values...) or (False, message[, rpc code, rpc message, data]) — it never raises into Lua, so no
Python exception object (and nothing it references) ever reaches the script. sandbox.lua turns a failure
into a Lua error. `check` is the instruction hook's question: is there a reason to stop now?"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from mediaplane.services.gosd.luavm.duration import parse_duration
from mediaplane.services.gosd.luavm.host import Killed, LuaHost, Scope
from mediaplane.services.gosd.luavm.values import ValueProblem, text, to_lua, to_python
from mediaplane.services.gosd.mqtt.rpc import RpcFailed

KILLED = "Be killed"  # gosd's message for a cancelled job
NO_MEMORY = b"not enough memory"  # Lua's message when an allocation fails
AWAIT_STEP = 0.2  # how often a pending AsyncCall looks at the kill flag
MAX_ASYNC = 64  # AsyncCalls one run may have in flight


class Stop:
    """Why the run must end; set once and never cleared (a script cannot catch its way out)."""

    def __init__(self, host: LuaHost, cpu_seconds: float, memory_bytes: int) -> None:
        self.host = host
        self.cpu_seconds = cpu_seconds
        self.memory_bytes = memory_bytes
        self.started = time.thread_time()
        self.reason: str | None = None  # "killed" | "cpu" | "memory"
        self.killed_by: Killed | None = None

    def check(self, error: Any = None) -> bytes | None:
        if self.reason is None:
            if self.host.killed():
                self.reason = "killed"
            elif time.thread_time() - self.started > self.cpu_seconds:
                self.reason = "cpu"
            elif error == NO_MEMORY:
                self.reason = "memory"
        return self.message().encode() if self.reason else None

    def message(self) -> str:
        if self.reason == "cpu":
            return f"the script used more than {self.cpu_seconds:g} s of CPU"
        if self.reason == "memory":
            return f"the script used more than {self.memory_bytes / 1024 / 1024:g} MiB of memory"
        return KILLED


class Bridge:
    def __init__(self, runtime: Any, host: LuaHost, stop: Stop) -> None:
        self.runtime = runtime
        self.host = host
        self.stop = stop
        self.calls: dict[int, Future[Any]] = {}  # AsyncCall tickets
        self.tickets = itertools.count(1)

    def functions(self) -> dict[bytes, Callable[..., tuple[Any, ...]]]:
        named: dict[str, Callable[..., Any]] = {
            "node_id": self.node_id,
            "call": self.call,
            "start": self.start,
            "await": self.await_,
            "notify": self.notify,
            "status": lambda node: self._known(self.host.status(self.node_id(node)), node, "status"),
            "network": lambda node: self._known(self.host.network(self.node_id(node)), node, "network"),
            "message": self.message,
            "wait_message": self.wait_message,
            "sleep": self.sleep,
            "log": lambda level, line: self.host.log(text(level, "level"), text(line, "the line")),
            "notification": self.notification,
            "extra": lambda scope: self.host.plan_extra() if self._scope(scope) == "plan" else self.host.job_extra(),
            "set_job_extra": self.set_job_extra,
            "files": lambda scope: self.host.files(self._scope(scope)),
            "file": self.file,
            "set_file": self.set_file,
            "file_url": self.file_url,
            "json_encode": lambda value: json.dumps(
                to_python(value, "json.encode's value"), ensure_ascii=False, separators=(",", ":")
            ),
            "json_decode": self.json_decode,
        }
        return {name.encode(): self._guard(fn) for name, fn in named.items()}

    def _guard(self, fn: Callable[..., Any]) -> Callable[..., tuple[Any, ...]]:
        def guarded(*args: Any) -> tuple[Any, ...]:
            try:
                value = fn(*args)
                return (True, *value) if isinstance(value, tuple) else (True, to_lua(self.runtime, value))
            except Killed as exc:
                self.stop.killed_by = self.stop.killed_by or exc
                self.stop.reason = self.stop.reason or "killed"
                return (False, KILLED.encode())
            except RpcFailed as exc:
                try:
                    data = to_lua(self.runtime, exc.data)
                except (ValueProblem, MemoryError):  # the code and message still tell what happened
                    data = None
                return (False, exc.message.encode(), exc.code, exc.message.encode(), data)
            except MemoryError:  # lupa's LuaMemoryError too: a table we built for the script hit the limit
                self.stop.reason = self.stop.reason or "memory"
                return (False, self.stop.message().encode())
            except (ValueProblem, ValueError, TypeError, LookupError) as exc:
                return (False, str(exc).encode())
            except Exception as exc:  # the host's own trouble (storage, broker): the script sees it as an error
                return (False, f"{type(exc).__name__}: {exc}".encode())

        return guarded

    # Nodes.
    def node_id(self, value: Any) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, bytes) and value.strip().isdigit():
            return int(value)
        raise ValueProblem(f"a node id is a number, not {value!r}")

    def call(self, node: Any, method: Any, params: Any, timeout: Any) -> Any:
        return self.host.call(
            self.node_id(node), text(method, "the method"), to_python(params, "params"), _seconds(timeout)
        )

    def start(self, node: Any, method: Any, params: Any) -> int:
        if sum(not future.done() for future in self.calls.values()) >= MAX_ASYNC:
            raise ValueProblem(f"more than {MAX_ASYNC} AsyncCalls wait for their answer")
        args = (self.node_id(node), text(method, "the method"), to_python(params, "params"))
        future: Future[Any] = Future()

        def work() -> None:
            try:
                future.set_result(self.host.call(*args, None))
            except BaseException as exc:  # handed to the script's thread by await_
                future.set_exception(exc)

        ticket = next(self.tickets)
        self.calls[ticket] = future
        threading.Thread(target=work, name=f"gosd-lua-rpc-{args[1]}", daemon=True).start()
        return ticket

    def await_(self, ticket: Any) -> Any:
        """The answer of an AsyncCall (a second call gives the same again); a cancel stops the wait."""
        future = self.calls[ticket]
        while True:
            if self.host.killed():
                raise Killed(KILLED)
            try:
                return future.result(timeout=AWAIT_STEP)
            except FutureTimeout:
                continue

    def notify(self, node: Any, method: Any, params: Any) -> None:
        self.host.notify(self.node_id(node), text(method, "the method"), to_python(params, "params"))

    def message(self, node: Any, name: Any) -> Any:
        key = text(name, "the message name")
        return self._known(self.host.message(self.node_id(node), key), node, f"msg/{key}")

    def wait_message(self, node: Any, name: Any, timeout: Any) -> Any:
        seconds = _seconds(timeout)
        if seconds is None:
            raise ValueProblem("WaitMsg needs a timeout in seconds")
        return self.host.wait_message(self.node_id(node), text(name, "the message name"), seconds)

    def _known(self, value: Any, node: Any, what: str) -> Any:
        if value is None:  # gosd raised here too (scripts pcall GetMsg to learn whether a message came)
            raise ValueProblem(f"node {node} has sent no {what} yet")
        return value

    # Time, log, notifications.
    def sleep(self, duration: Any) -> None:
        if isinstance(duration, bytes):
            seconds = parse_duration(text(duration, "the duration"))
        elif isinstance(duration, int | float) and not isinstance(duration, bool):
            seconds = float(duration)
        else:
            raise ValueProblem('sleep takes a duration ("1s", "500ms", "1m30s") or a number of seconds')
        self.host.sleep(max(0.0, seconds))

    def notification(self, message: Any, level: Any) -> None:
        number = 5 if level is None else level
        if not isinstance(number, int) or isinstance(number, bool) or not 0 <= number <= 7:
            raise ValueProblem(f"Notification's level is 0 to 7 (RFC 5424), not {level!r}")
        self.host.notification(number, text(message, "the notification"))

    # Extra and files.
    def set_job_extra(self, extra: Any) -> None:
        values = to_python(extra, "the job's extra")
        if not isinstance(values, dict):
            raise ValueProblem("SetJobExtra takes a table of key = value")
        for key, value in values.items():
            if isinstance(value, dict | list) or value is None:
                raise ValueProblem(f"the job's extra {key!r} must be a string")
            self.host.set_job_extra(key, text(value, "extra") if not isinstance(value, str) else value)

    def file(self, scope: Any, key: Any) -> tuple[Any, ...]:
        """gosd returned (filename, content); the filename is not known here, so the first value is nil."""
        where = self._scope(scope)
        data = self.host.file(where, text(key, "the file key"))
        if data is None:
            raise ValueProblem(f"the {where} has no file {text(key, 'key')!r}")
        return (None, data)

    def set_file(self, scope: Any, key: Any, filename: Any, content: Any) -> None:
        name = text(filename, "the filename")
        if name == "":  # gosd's way to leave a file alone
            return
        if isinstance(content, int | float) and not isinstance(content, bool):
            content = text(content, "content").encode()
        if not isinstance(content, bytes):
            raise ValueProblem("the file content must be a string")
        self.host.set_file(self._scope(scope), text(key, "the file key"), content, name)

    def file_url(self, scope: Any, key: Any) -> str:
        """As gosd: a key without a file gets an empty one, so a node can fetch or fill it by URL."""
        where, name = self._scope(scope), text(key, "the file key")
        url = self.host.file_url(where, name)
        if url is None:
            self.host.set_file(where, name, b"", name)
            url = self.host.file_url(where, name)
        if url is None:
            raise ValueProblem(f"the {where} file {name!r} has no URL")
        return url

    def json_decode(self, value: Any) -> Any:
        try:
            return json.loads(text(value, "json.decode's text"))
        except json.JSONDecodeError as exc:
            raise ValueProblem(f"json.decode: {exc}") from None

    @staticmethod
    def _scope(scope: Any) -> Scope:
        return "plan" if scope == b"plan" else "job"


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ValueProblem(f"a timeout is a number of seconds, not {value!r}")
    return float(value)
