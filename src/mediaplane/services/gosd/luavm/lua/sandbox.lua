-- Seals a fresh Lua state for one plan script. Runs once, with the full standard library, before any script
-- code; everything the script must not reach is kept here as an upvalue or removed from _G.
local check, bridge, EVERY, SCRIPT = ...

local sethook, getinfo, traceback, raw_getmetatable = debug.sethook, debug.getinfo, debug.traceback, debug.getmetatable
local raw_pcall, raw_xpcall, raw_error, raw_load = pcall, xpcall, error, load
local raw_setmetatable, rawget, type, tostring, select = setmetatable, rawget, type, tostring, select
local co_create, co_wrap, co_resume, co_running = coroutine.create, coroutine.wrap, coroutine.resume, coroutine.running
local raw_collect, raw_assert, os_lib = collectgarbage, assert, os
-- check(): nil, or the message of a stop (cancel, CPU, memory) that the script may not outlive.

local OURS = { ["=sandbox"] = true, ["=gosd"] = true }

-- "plan.lua:12: " for the script line that called into us (our own frames and C frames are skipped).
local function where()
  for level = 2, 40 do
    local info = getinfo(level, "Sl")
    if info == nil then return "" end
    if info.what ~= "C" and not OURS[info.source] and info.currentline > 0 then
      return info.short_src .. ":" .. info.currentline .. ": "
    end
  end
  return ""
end

local function fail(message) raw_error(where() .. message, 0) end

-- Every N instructions: stop when the job is cancelled or the script has used up its CPU time.
local function hook()
  local stop = check()
  if stop then raw_error(stop, 0) end
end

-- A stop is sticky: catching it (pcall, xpcall, coroutine.resume) only raises it again.
local function after(ok, ...)
  if not ok then
    local stop = check((...))
    if stop then raw_error(stop, 0) end
  end
  return ok, ...
end

local function refuse(name)
  return function() fail(name .. " is not available in plan scripts") end
end

local function forbidden(lib, keep)
  return raw_setmetatable(keep, {
    __index = function(_, key) return refuse(lib .. "." .. tostring(key)) end,
    __metatable = false,
  })
end

local RpcError = {
  __tostring = function(e) return tostring(e.where or "") .. "rpc error: " .. tostring(e.message) .. " (code " .. tostring(e.code) .. ")" end,
}

-- Python answers (true, values...) or (false, message[, code, rpc message, data]); turn a failure into an error.
local function unwrap(ok, ...)
  if ok then return ... end
  local message, code, rpc_message, data = ...
  if message == "Be killed" then raw_error(message, 0) end
  if code ~= nil then
    raw_error(raw_setmetatable({ code = code, message = rpc_message, data = data, where = where() }, RpcError), 0)
  end
  fail(message)
end

local host = {}
for name, fn in pairs(bridge) do
  host[name] = function(...) return unwrap(fn(...)) end
end

local ENV = _G
local keep = {
  "assert", "error", "getmetatable", "ipairs", "next", "pairs", "rawequal", "rawget", "rawlen", "rawset",
  "select", "tonumber", "tostring", "type", "_VERSION", "_G", "string", "table", "math", "utf8", "coroutine",
}
local kept = {}
for _, name in ipairs(keep) do kept[name] = true end
for name in pairs(ENV) do
  if not kept[name] then ENV[name] = nil end
end

string.dump = nil

ENV.pcall = function(f, ...) return after(raw_pcall(f, ...)) end
-- A stop raised by the hook reaches the message handler while Lua has hooks off: the script's handler
-- must not run then, or a loop in it could never be stopped.
ENV.xpcall = function(f, handler, ...)
  if type(handler) ~= "function" then fail("bad argument #2 to 'xpcall' (function expected)") end
  return after(raw_xpcall(f, function(e)
    if check(e) then return e end
    return handler(e)
  end, ...))
end

ENV.setmetatable = function(t, mt)
  if type(mt) == "table" and rawget(mt, "__gc") ~= nil then fail("__gc metamethods are not available in plan scripts") end
  return raw_setmetatable(t, mt)
end

ENV.load = function(chunk, name, mode, ...)
  if mode ~= nil and mode ~= "t" then fail("binary chunks are not available in plan scripts") end
  return raw_load(chunk, name, "t", ...)
end
ENV.loadstring = ENV.load
ENV.unpack = table.unpack -- Lua 5.1 scripts (gosd ran gopher-lua)

local COLLECT = { collect = true, count = true, step = true, isrunning = true }
ENV.collectgarbage = function(what, ...)
  what = what or "collect"
  if not COLLECT[what] then fail("collectgarbage(\"" .. tostring(what) .. "\") is not available in plan scripts") end
  return raw_collect(what, ...)
end

local co = ENV.coroutine
co.create = function(f)
  if type(f) ~= "function" then fail("bad argument #1 to 'create' (function expected)") end
  return co_create(function(...)
    sethook(hook, "", EVERY)
    return f(...)
  end)
end
co.wrap = function(f)
  if type(f) ~= "function" then fail("bad argument #1 to 'wrap' (function expected)") end
  return co_wrap(function(...)
    sethook(hook, "", EVERY)
    return f(...)
  end)
end
co.resume = function(thread, ...) return after(co_resume(thread, ...)) end

ENV.os = forbidden("os", { time = os_lib.time, clock = os_lib.clock, date = os_lib.date, difftime = os_lib.difftime })
ENV.io = forbidden("io", {})
ENV.debug = forbidden("debug", { traceback = traceback })
ENV.package = forbidden("package", {})
ENV.dofile = refuse("dofile")
ENV.loadfile = refuse("loadfile")

local MODULES = {}
ENV.require = function(name)
  local module = MODULES[name]
  if module == nil then fail("module '" .. tostring(name) .. "' is not available in plan scripts") end
  return module
end

-- The gosd library (gosd.lua) gets what it needs from here, then the script runs.
local lib = {
  host = host, fail = fail, where = where, RpcError = RpcError, modules = MODULES,
}

-- As lua.c reports an error: strings as they are, values with __tostring through it, others by their type.
local function describe(e)
  if type(e) == "string" then return e end
  local mt = raw_getmetatable(e)
  if type(e) == "number" or mt and rawget(mt, "__tostring") then
    local ok, text = raw_pcall(tostring, e)
    if ok and type(text) == "string" then return text end
  end
  return "error object is a " .. type(e) .. " value"
end

-- Runs gosd.lua and then the script: true, or false and the message and a traceback.
return function(gosd_source, source, node_id)
  local setup = raw_assert(raw_load(gosd_source, "=gosd", "t", ENV))
  local chunk, syntax = raw_load(source, "=" .. SCRIPT, "t", ENV)
  if not chunk then return false, syntax, "" end
  local trace = ""
  local function handler(e)
    local text = describe(e)
    trace = traceback(text, 2)
    return text
  end
  sethook(hook, "", EVERY)
  local ok, message = raw_xpcall(function()
    local entry = setup(lib)
    MODULES.json, MODULES.string, MODULES.table, MODULES.math = ENV.json, string, table, math
    MODULES.utf8, MODULES.coroutine = utf8, co
    entry(chunk, node_id)
  end, handler)
  sethook()
  return ok, message, trace
end
