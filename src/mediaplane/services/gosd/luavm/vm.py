"""run_script: one plan script in a fresh, sealed Lua 5.4 state (lupa), under memory and CPU limits."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from lupa import lua54  # type: ignore[import-untyped]

from mediaplane.services.gosd.luavm.bridge import NO_MEMORY, Bridge, Stop
from mediaplane.services.gosd.luavm.host import Killed, LuaHost

_LUA = resources.files(__package__) / "lua"
SANDBOX = (_LUA / "sandbox.lua").read_bytes()
GOSD = (_LUA / "gosd.lua").read_bytes()


@dataclass(frozen=True)
class Limits:
    memory_bytes: int = 64 * 1024 * 1024  # everything the Lua state allocates
    cpu_seconds: float = 60.0  # CPU time of the script's own thread; waiting in host calls costs none
    instructions_between_checks: int = 10_000


class ScriptError(Exception):
    """The script failed; the message is what a person reads in the job's error and log."""


def _no_attributes(obj: Any, name: Any, is_setting: bool) -> Any:
    raise AttributeError("Python objects are not reachable from plan scripts")


def run_script(source: str | bytes, host: LuaHost, *, limits: Limits = Limits(), name: str = "plan.lua") -> None:
    """Runs the chunk, then main(plan) when the script defines one, in the calling thread.

    Raises Killed when the job was cancelled (even if the script caught the error and went on), ScriptError
    for a syntax or runtime error (Lua's message with the line), the memory or CPU limit, or a call that
    plan scripts may not make."""
    stop = Stop(host, limits.cpu_seconds, limits.memory_bytes)
    runtime = lua54.LuaRuntime(
        encoding=None,
        register_eval=False,
        register_builtins=False,
        unpack_returned_tuples=True,
        attribute_filter=_no_attributes,
        max_memory=limits.memory_bytes,
    )
    code = source.encode() if isinstance(source, str) else source
    try:
        bridge = runtime.table_from(Bridge(runtime, host, stop).functions())
        seal = runtime.execute(
            SANDBOX, stop.check, bridge, limits.instructions_between_checks, name.encode(), name="=sandbox"
        )
        ok, message, trace = seal(GOSD, code, host.node_id)
    except lua54.LuaMemoryError:
        ok, message, trace = False, NO_MEMORY, b""
    except lua54.LuaError as exc:  # the sandbox itself failed: no script line to show
        ok, message, trace = False, str(exc).encode(), b""
    if stop.reason == "killed" or host.killed():
        raise stop.killed_by or Killed("Be killed")
    if message == NO_MEMORY and not ok:
        stop.reason = stop.reason or "memory"
    if stop.reason is not None:
        raise ScriptError(stop.message())
    if ok:
        return
    if trace:
        host.log("debug", _script_frames(_text(trace)))
    raise ScriptError(_text(message))


def _script_frames(trace: str) -> str:
    """The traceback without the sandbox's own frames below the script."""
    ours = ("\tsandbox:", "\t[C]: in upvalue 'raw_", "\t(...tail calls...)")
    return "\n".join(line for line in trace.splitlines() if not line.startswith(ours))


def _text(value: Any) -> str:
    if isinstance(value, bytes):
        return value.decode(errors="replace")
    return str(value)
