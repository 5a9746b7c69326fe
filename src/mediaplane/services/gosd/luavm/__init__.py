"""The Lua VM that runs gosd plan scripts: sandboxed, limited in memory and CPU, stoppable by a cancel."""

from mediaplane.services.gosd.luavm.host import Killed, LuaHost
from mediaplane.services.gosd.luavm.vm import Limits, ScriptError, run_script

__all__ = ["Killed", "Limits", "LuaHost", "ScriptError", "run_script"]
