"""gosd's plan API as scripts use it: nodes, plan, files, extra, sleep, json, logs, geo."""

from __future__ import annotations

import json
import time

import pytest

from mediaplane.services.gosd.luavm import ScriptError, run_script
from mediaplane.services.gosd.mqtt.rpc import RpcFailed
from tests.services.gosd.luavm.fake_host import FakeHost


def run(source: str, host: FakeHost) -> list[str]:
    run_script(source, host)
    return host.printed()


def test_chunk_runs_then_main_gets_the_plan_also_as_a_global(host: FakeHost) -> None:
    printed = run(
        """
        print("chunk", type(main))
        function main(p) print("main", p.nodeID, p == plan, NewPlan() == p) end
        """,
        host,
    )
    assert printed == ["chunk\tnil", "main\t7\ttrue\ttrue"]


def test_a_script_without_main_only_runs_its_chunk(host: FakeHost) -> None:
    assert run('print("only the chunk")', host) == ["only the chunk"]


def test_sync_call_sends_params_and_returns_the_result(host: FakeHost) -> None:
    host.answers["gimbal_ctl"] = {"yaw": 10, "ok": True, "path": [1, 2, 3]}
    printed = run(
        """
        local drone = NewNode(plan.nodeID)
        local r = drone:SyncCall("gimbal_ctl", {yaw = 10, pitch = -90.5, tags = {"a", "b"}, opts = {}})
        print(drone.id, r.yaw, r.ok, #r.path, r.path[3])
        drone:SyncCall("cam_photo")
        """,
        host,
    )
    assert printed == ["7\t10\ttrue\t3\t3"]
    assert host.calls == [
        (7, "gimbal_ctl", {"yaw": 10, "pitch": -90.5, "tags": ["a", "b"], "opts": {}}, None),
        (7, "cam_photo", None, None),
    ]


def test_sync_call_raises_the_json_rpc_error_as_a_table(host: FakeHost) -> None:
    host.answers["dooropen"] = RpcFailed(-32000, "door jammed", {"sensor": 2})
    printed = run(
        """
        local ok, err = pcall(function() return NewNode("7"):SyncCall("dooropen") end)
        print(ok, err.code, err.message, err.data.sensor)
        print(tostring(err))
        """,
        host,
    )
    assert printed == ["false\t-32000\tdoor jammed\t2", "plan.lua:2: rpc error: door jammed (code -32000)"]


def test_an_uncaught_rpc_error_fails_the_script_with_its_line(host: FakeHost) -> None:
    host.answers["takeoff"] = RpcFailed(1, "timeout")
    with pytest.raises(ScriptError, match=r"^plan\.lua:3: rpc error: timeout \(code 1\)$"):
        run_script('local d = NewNode(7)\n\nd:SyncCall("takeoff")\n', host)


def test_async_call_sends_at_once_and_the_promise_waits(host: FakeHost) -> None:
    host.delays["mission_upload_nas"] = 0.3
    host.answers["mission_upload_nas"] = "uploaded"
    started = time.monotonic()
    printed = run(
        """
        local drone = NewNode(7)
        local promise = drone:AsyncCall("mission_upload_nas", {"fast"})
        drone:SyncCall("fixdrone")
        print(promise(), promise())
        """,
        host,
    )
    assert printed == ["uploaded\tuploaded"]
    assert {call[1] for call in host.calls} == {"mission_upload_nas", "fixdrone"}
    assert time.monotonic() - started < 1.0


def test_call_passes_a_timeout_and_notify_expects_no_answer(host: FakeHost) -> None:
    run('local d = NewNode(7) d:Call("land", {soft = true}, 2.5) d:Notify("beep", {1})', host)
    assert host.calls == [(7, "land", {"soft": True}, 2.5)]
    assert host.notified == [(7, "beep", [1])]


def test_status_network_messages_and_the_linked_id(host: FakeHost) -> None:
    host.statuses[7] = {"code": 0, "msg": "online", "status": {"link_id": 9, "type": "drone", "lat": "22.1"}}
    host.networks[7] = {"loss": 0, "delay": 20}
    host.messages[(7, "battery")] = {"remain": 80, "cells": [3.9, 4.0], "note": None}
    printed = run(
        """
        local d = NewNode(7)
        print(d:GetStatus().msg, d:GetID(), d:GetID("type"), d:GetNetwork().delay)
        local b = d:GetMsg("battery")
        print(b.remain, b.cells[2], b.note)
        print(pcall(d.GetMsg, d, "weather"))
        print(pcall(NewNode(9).GetStatus, NewNode(9)))
        """,
        host,
    )
    assert printed == [
        "online\t9\tdrone\t20",
        "80\t4.0\tnil",
        "false\tplan.lua:6: node 7 has sent no msg/weather yet",
        "false\tplan.lua:7: node 9 has sent no status yet",
    ]


def test_wait_msg_returns_the_next_message_or_nil_on_timeout(host: FakeHost) -> None:
    host.coming[(7, "position")] = {"lat": 1.5}
    printed = run('local d = NewNode(7) print(d:WaitMsg("position", 5).lat, d:WaitMsg("weather", 0.05))', host)
    assert printed == ["1.5\tnil"]


def test_bad_node_ids_are_refused(host: FakeHost) -> None:
    with pytest.raises(ScriptError, match=r"^plan\.lua:1: a node id is a number, not b'drone'$"):
        run_script('NewNode("drone")', host)


def test_notification_defaults_to_level_5_and_checks_the_range(host: FakeHost) -> None:
    run('plan:Notification("landed") plan:Notification("low battery", 3)', host)
    assert host.notes == [(5, "landed"), (3, "low battery")]
    with pytest.raises(ScriptError, match="level is 0 to 7"):
        run_script('plan:Notification("x", 9)', host)


def test_extra_reads_both_and_set_job_extra_writes_each_key(host: FakeHost) -> None:
    printed = run(
        """
        print(plan:GetExtra().site, plan:GetJobExtra().run)
        local e = plan:GetJobExtra()
        e.result = "ok"
        e.count = 3
        plan:SetJobExtra(e)
        print(pcall(plan.SetExtra, plan, {}))
        """,
        host,
    )
    assert printed[0] == "north\t1"
    assert printed[1].startswith("false\tplan.lua:7: plan:SetExtra is not supported")
    assert host.extra["job"] == {"run": "1", "result": "ok", "count": "3"}


def test_files_round_trip_bytes_and_urls(host: FakeHost) -> None:
    host.stored["plan"]["map"] = ("map.bin", b"\x00\xffmap")
    printed = run(
        """
        local name, content = plan:GetFileContent("map")
        print(name, #content, content:byte(2))
        plan:SetJobFileContent("report", "report.txt", "all good\\0")
        plan:SetJobFileContent("ignored", "", "gosd skips an empty filename")
        local _, back = plan:GetJobFileContent("report")
        print(back == "all good\\0", json.encode(plan:GetJobFiles()))
        print(plan:FileUrl("map"), plan:JobFileUrl("upload"))
        print(pcall(plan.GetFileContent, plan, "missing"))
        """,
        host,
    )
    assert printed == [
        "nil\t5\t255",
        'true\t{"report":"1"}',
        "http://files.test/plan/map\thttp://files.test/job/upload",
        "false\tplan.lua:9: the plan has no file 'missing'",
    ]
    assert host.stored["job"] == {"report": ("report.txt", b"all good\x00"), "upload": ("upload", b"")}


def test_dialogs_need_an_operator_and_say_so(host: FakeHost) -> None:
    run('plan:CleanDialog() plan:Puts("to the log")', host)
    assert ("info", "to the log") in host.lines
    with pytest.raises(ScriptError, match=r"^plan\.lua:1: operator dialogs are not supported"):
        run_script('plan:ToggleDialog({name = "go?"})', host)
    with pytest.raises(ScriptError, match="operator dialogs are not supported"):
        run_script("plan:Gets()", host)


@pytest.mark.parametrize(
    ("duration", "seconds"),
    [('"1.5s"', 1.5), ('"500ms"', 0.5), ('"1m30s"', 90.0), ('"2h45m"', 9900.0), ('"-1s"', 0.0), ("0.25", 0.25)],
)
def test_sleep_takes_go_durations_and_seconds(host: FakeHost, duration: str, seconds: float) -> None:
    host.sleep_cap = 0.0
    run_script(f"sleep({duration})", host)
    assert host.slept == [pytest.approx(seconds)]


def test_sleep_refuses_what_go_refuses(host: FakeHost) -> None:
    with pytest.raises(ScriptError, match=r'^plan\.lua:1: time: invalid duration "5"$'):
        run_script('sleep("5")', host)


def test_json_encode_and_decode(host: FakeHost) -> None:
    printed = run(
        """
        print(json.encode({1, "two", {three = 3}}), json.encode({}), json.encode("é"))
        local v = json.decode('{"a": [1, 2.5, null, true], "b": null, "c": "\\\\u00e9"}')
        print(v.a[4], v.a[3], v.a[2], v.b, v.c)
        print(json.decode("{oops"))
        print(json.encode(print))
        """,
        host,
    )
    assert printed[0] == '[1,"two",{"three":3}]\t{}\t"é"'
    assert printed[1] == "true\tnil\t2.5\tnil\té"
    assert printed[2].startswith("nil\tplan.lua:5: json.decode: Expecting property name")
    assert printed[3] == "nil\tplan.lua:6: json.encode's value holds a function, which is not plain data"
    assert json.loads(printed[0].split("\t")[0]) == [1, "two", {"three": 3}]


def test_print_and_new_log(host: FakeHost) -> None:
    printed = run(
        """
        print("a", 1, nil, false, 2.5)
        local log = NewLog()
        log:Println("first", 1)
        log:Println("second")
        local custom = NewLog(function(line, nu) return "#" .. nu .. " " .. line end,
                              function(word) return type(word) == "table" and json.encode(word) or tostring(word) end)
        custom:Println({x = 1})
        print(log:GetContent() .. custom:GetContent())
        """,
        host,
    )
    assert printed == ["a\t1\tnil\tfalse\t2.5", '1: first\t1\n2: second\n#1 {"x":1}\n']


def test_geo_distance_as_gosd_measures_it(host: FakeHost) -> None:
    printed = run(
        """
        local d = Geo:Distance(114.2247765, 22.6857991, 114.22475167, 22.68580217)
        print(math.floor(d), d == GetDistance(114.2247765, 22.6857991, 114.22475167, 22.68580217))
        print(GetDistance(0, 0, 0, 1) // 1, GetDistance(1, 1, 1, 1))
        """,
        host,
    )
    assert printed == ["2\ttrue", "111194.0\t0.0"]


def test_lua_51_habits_still_work(host: FakeHost) -> None:
    assert run('print(json.encode(require("json").decode("[1]")), unpack({1, 2}))', host) == ["[1]\t1\t2"]


def test_host_errors_reach_the_script_as_lua_errors(host: FakeHost) -> None:
    def broken(node_id: int) -> None:
        raise OSError("storage is down")

    host.status = broken  # type: ignore[method-assign]
    printed = run("print(pcall(NewNode(7).GetStatus, NewNode(7)))", host)
    assert printed == ["false\tplan.lua:1: OSError: storage is down"]
