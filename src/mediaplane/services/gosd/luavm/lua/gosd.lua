-- gosd's plan API (NewNode, plan, sleep, json, NewLog, Geo) over the host functions that sandbox.lua hands in.
-- Names and return conventions follow gosd's lib_*.lua; Call, Notify and WaitMsg are mediaplane's own.
local lib = ...
local host, fail = lib.host, lib.fail
local type, tostring, select, pcall = type, tostring, select, pcall
local sin, cos, asin, sqrt, rad, min = math.sin, math.cos, math.asin, math.sqrt, math.rad, math.min
local concat, insert = table.concat, table.insert

local json = {}
-- gopher-json's convention: nil and the reason when the value cannot be converted.
function json.encode(value)
  local ok, text = pcall(host.json_encode, value)
  if ok then return text end
  return nil, text
end
function json.decode(text)
  local ok, value = pcall(host.json_decode, text)
  if ok then return value end
  return nil, value
end
_G.json = json

function NewNode(id)
  local number = host.node_id(id)
  local node = { id = tostring(number) }

  -- Sends now; the returned function waits for the answer (result, or an error {code, message, data}).
  function node.AsyncCall(self, method, params)
    local ticket = host.start(number, tostring(method), params)
    return function() return host.await(ticket) end
  end
  function node.SyncCall(self, method, params) return host.call(number, tostring(method), params, nil) end
  function node.Call(self, method, params, timeout) return host.call(number, tostring(method), params, timeout) end
  function node.Notify(self, method, params) host.notify(number, tostring(method), params) end
  function node.GetStatus(self) return host.status(number) end
  function node.GetNetwork(self) return host.network(number) end
  function node.GetMsg(self, name) return host.message(number, tostring(name)) end
  function node.WaitMsg(self, name, timeout) return host.wait_message(number, tostring(name), timeout) end
  function node.GetID(self, key)
    local status = self:GetStatus().status
    if type(status) ~= "table" then fail("node " .. self.id .. " has no status.status in its last status") end
    return status[key or "link_id"]
  end
  return node
end

local function dialogs() fail("operator dialogs are not supported: mediaplane plans run without an operator") end

local function make_plan(node_id)
  local plan = { nodeID = node_id }
  plan.ToggleDialog = dialogs
  plan.Gets = dialogs
  function plan.CleanDialog(self) end
  function plan.Puts(self, text) host.log("info", tostring(text)) end
  function plan.Notification(self, message, level) host.notification(tostring(message), level) end
  function plan.GetExtra(self) return host.extra("plan") end
  function plan.SetExtra(self) fail("plan:SetExtra is not supported: a job changes only its own extra (plan:SetJobExtra)") end
  function plan.GetJobExtra(self) return host.extra("job") end
  function plan.SetJobExtra(self, extra) host.set_job_extra(extra) end
  function plan.GetFiles(self) return host.files("plan") end
  function plan.GetJobFiles(self) return host.files("job") end
  function plan.SetFiles(self) fail("plan:SetFiles is not supported: use plan:SetFileContent") end
  function plan.SetJobFiles(self) fail("plan:SetJobFiles is not supported: use plan:SetJobFileContent") end
  function plan.GetFileContent(self, key) return host.file("plan", key) end
  function plan.GetJobFileContent(self, key) return host.file("job", key) end
  function plan.SetFileContent(self, key, filename, content) host.set_file("plan", key, filename, content) end
  function plan.SetJobFileContent(self, key, filename, content) host.set_file("job", key, filename, content) end
  function plan.FileUrl(self, key) return host.file_url("plan", key) end
  function plan.JobFileUrl(self, key) return host.file_url("job", key) end
  return plan
end

function print(...)
  local words = {}
  for i = 1, select("#", ...) do words[i] = tostring((select(i, ...))) end
  host.log("info", concat(words, "\t"))
end

-- sleep("1m30s") as Go's time.ParseDuration, or sleep(seconds).
function sleep(duration) host.sleep(duration) end

-- gosd's in-memory log: Println adds a line, GetContent returns them all (the script decides where they go).
function NewLog(line_hook, word_hook)
  line_hook = line_hook or function(line, nu) return tostring(nu) .. ": " .. line end
  word_hook = word_hook or function(word) return tostring(word) end
  local lines = {}
  local log = {}
  function log.Println(self, ...)
    local words = {}
    for i = 1, select("#", ...) do words[i] = word_hook((select(i, ...)), i) end
    insert(lines, line_hook(concat(words, "\t"), #lines + 1))
  end
  function log.GetContent(self)
    if #lines == 0 then return "" end
    return concat(lines, "\n") .. "\n"
  end
  return log
end

-- Great-circle distance in metres (gosd's earth radius), haversine so that near points stay exact.
local EARTH = 6371004
function GetDistance(a_lng, a_lat, b_lng, b_lat)
  local d_lat, d_lng = rad(b_lat - a_lat), rad(b_lng - a_lng)
  local h = sin(d_lat / 2) ^ 2 + cos(rad(a_lat)) * cos(rad(b_lat)) * sin(d_lng / 2) ^ 2
  return 2 * EARTH * asin(sqrt(min(1, h)))
end
Geo = { Distance = function(self, ...) return GetDistance(...) end }

-- Runs the chunk, then gosd's entry point SD_main(node_id) -> main(plan) when the script defines main.
return function(chunk, node_id)
  local the_plan = make_plan(node_id)
  plan = the_plan
  function NewPlan() return the_plan end
  function SD_main() return main(the_plan) end
  chunk()
  if type(main) == "function" then return SD_main(node_id) end
end
