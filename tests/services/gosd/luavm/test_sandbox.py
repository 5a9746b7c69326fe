"""What a plan script cannot reach: the OS, files, the debug library, bytecode, Python objects."""

from __future__ import annotations

import pytest

from mediaplane.services.gosd.luavm import ScriptError, run_script
from tests.services.gosd.luavm.fake_host import FakeHost


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ('os.execute("touch /tmp/owned")', "os.execute is not available in plan scripts"),
        ("os.exit(1)", "os.exit is not available in plan scripts"),
        ('os.getenv("HOME")', "os.getenv is not available in plan scripts"),
        ('os.remove("/tmp/x")', "os.remove is not available in plan scripts"),
        ('io.open("/etc/passwd")', "io.open is not available in plan scripts"),
        ("io.popen('id')", "io.popen is not available in plan scripts"),
        ('require("os")', "module 'os' is not available in plan scripts"),
        ('require("io")', "module 'io' is not available in plan scripts"),
        ("debug.sethook()", "debug.sethook is not available in plan scripts"),
        ("debug.getregistry()", "debug.getregistry is not available in plan scripts"),
        ("debug.getupvalue(print, 1)", "debug.getupvalue is not available in plan scripts"),
        ('dofile("/etc/passwd")', "dofile is not available in plan scripts"),
        ('loadfile("/etc/passwd")', "loadfile is not available in plan scripts"),
        ('package.loadlib("libc.so.6", "system")', "package.loadlib is not available in plan scripts"),
        ('collectgarbage("stop")', 'collectgarbage("stop") is not available in plan scripts'),
        ("setmetatable({}, {__gc = function() end})", "__gc metamethods are not available in plan scripts"),
        ('load("return 1", "x", "b")', "binary chunks are not available in plan scripts"),
    ],
)
def test_forbidden_calls_fail_with_a_clear_message(host: FakeHost, code: str, message: str) -> None:
    with pytest.raises(ScriptError) as failed:
        run_script(f"\n{code}\n", host)
    assert str(failed.value) == f"plan.lua:2: {message}"


def test_what_stays_usable(host: FakeHost) -> None:
    run_script(
        """
        assert(type(os.time()) == "number" and type(os.clock()) == "number")
        assert(os.date("!%Y", 0) == "1970" and os.difftime(2, 1) == 1)
        assert(string.format("%05.1f", 3.14159) == "003.1" and ("abc"):upper() == "ABC")
        assert(table.concat({1, 2}, ",") == "1,2" and math.max(1, 3) == 3 and utf8.char(233) == "é")
        assert(type(debug.traceback("x")) == "string")
        assert(collectgarbage("count") > 0)
        local f = load("return 40 + n", "inline", "t", {n = 2})
        assert(f() == 42)
        assert(load("return json")() == json)
        """,
        host,
    )


def test_no_bytecode(host: FakeHost) -> None:
    run_script(
        r"""
        assert(string.dump == nil and ("").dump == nil)
        local f, err = load("\27Lua\84\0\25\147\13\10\26\10\4\8\8")
        assert(f == nil and err:find("attempt to load a binary chunk"), err)
        local parts = {"\27Lua", "T"}
        local g, err2 = load(function() return table.remove(parts, 1) end)
        assert(g == nil and err2:find("binary chunk"), err2)
        """,
        host,
    )


def test_no_python_object_is_reachable(host: FakeHost) -> None:
    """Walks everything a script can reach from _G and the string metatable: only plain Lua values."""
    host.statuses[7] = {"status": {"link_id": 1}}
    run_script(
        """
        assert(python == nil and rawget(_G, "python") == nil)
        local seen, found = {}, {}
        local function walk(v, path)
          if type(v) == "userdata" then found[#found + 1] = path end
          if type(v) ~= "table" or seen[v] then return end
          seen[v] = true
          for k, x in next, v do walk(k, path .. ".<key>") walk(x, path .. "." .. tostring(k)) end
          local mt = getmetatable(v)
          if mt then walk(mt, path .. ".<metatable>") end
        end
        walk(_G, "_G")
        walk(getmetatable(""), "string metatable")
        walk(NewNode(7), "node")
        walk(NewNode(7):GetStatus(), "status")
        -- error values from the host are strings or plain tables, never wrapped exceptions
        for _, f in ipairs({function() NewNode({}) end, function() sleep({}) end, function() plan:GetFileContent(1) end,
                            function() plan:Notification("x", 99) end, function() NewNode(7):GetMsg("x") end}) do
          local ok, err = pcall(f)
          if ok or type(err) ~= "string" then found[#found + 1] = "an error of type " .. type(err) end
        end
        assert(#found == 0, table.concat(found, ", "))
        """,
        host,
    )


def test_runtime_errors_name_the_line(host: FakeHost) -> None:
    with pytest.raises(ScriptError, match=r"^plan\.lua:3: attempt to index a nil value \(local 'x'\)$"):
        run_script("local x\n\nprint(x.y)\n", host)
    with pytest.raises(ScriptError, match=r"^plan\.lua:2: in main$"):
        run_script('function main(plan)\n  error("in main")\nend\n', host)
    assert any(level == "debug" and "in function 'main'" in text for level, text in host.lines)


def test_syntax_errors_name_the_line(host: FakeHost) -> None:
    with pytest.raises(ScriptError, match=r"^flow\.lua:2: unexpected symbol near '='$"):
        run_script("local a = 1\nb = = 2\n", host, name="flow.lua")


def test_errors_that_are_not_strings(host: FakeHost) -> None:
    with pytest.raises(ScriptError, match=r"^error object is a table value$"):
        run_script("error({code = 1})", host)
    with pytest.raises(ScriptError, match=r"^custom: 42$"):
        run_script('error(setmetatable({}, {__tostring = function() return "custom: 42" end}))', host)


def test_an_error_inside_a_coroutine_names_its_line(host: FakeHost) -> None:
    # coroutine.wrap puts its caller's line in front, as Lua does
    with pytest.raises(ScriptError, match=r"^plan\.lua:4: plan\.lua:2: attempt to perform arithmetic on a nil value"):
        run_script("local co = coroutine.wrap(function()\n  return nil + 1\nend)\nco()\n", host)


def test_each_run_gets_a_fresh_state(host: FakeHost) -> None:
    run_script("leftover = 1; string.upper = nil", host)
    run_script('assert(leftover == nil and string.upper("a") == "A")', host)
