"""Jobs end to end: serve with its embedded broker and job workers, the node agent as a real process, a plan
whose Lua script drives the simulated drone. Run → succeeded with its log blob; cancel mid-run; the agent
killed → its last will fails the job; a script that loops forever or calls os.execute fails."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from tests.fixtures.servers import free_port
from tests.services.gosd.agent.live import LiveGosd, live_gosd, start_agent, stop_agent

pytestmark = pytest.mark.timeout(120)

FLIGHT = """
function main(plan)
  local drone = NewNode(plan.nodeID)
  print("taking off")
  drone:SyncCall("takeoff", {alt = 20})
  local target = plan:GetExtra()
  drone:SyncCall("goto", {lat = tonumber(target.lat), lng = tonumber(target.lng), alt = 20})
  local pos = drone:WaitMsg("position", 5)
  print("at " .. tostring(pos and pos.lat))
  drone:SyncCall("land")
  plan:SetJobFileContent("report", "report.json", json.encode({landed = true}))
  plan:SetJobExtra({result = "ok"})
end
"""

LONG = """
function main(plan)
  local drone = NewNode(plan.nodeID)
  drone:SyncCall("takeoff", {alt = 10})
  print("waiting")
  sleep("60s")
end
"""


def upload(gosd: LiveGosd, field: str, text: str) -> str:
    return str(gosd.call("POST", "/api/v2/blobs/", files={field: (f"{field}.lua", text.encode())})[field])


def plan(gosd: LiveGosd, node_id: int, script: str, **extra: str) -> int:
    body = {"name": "flight", "node_id": node_id, "files": {"lua": upload(gosd, "lua", script)}, "extra": extra}
    return int(gosd.call("POST", "/api/v2/plans/", 201, json=body)["id"])


def wait_state(gosd: LiveGosd, plan_id: int, job_id: int, states: tuple[str, ...], within: float = 60) -> Any:
    deadline = time.monotonic() + within
    while True:
        job = gosd.call("GET", f"/api/v2/plans/{plan_id}/jobs/{job_id}")
        if job["state"] in states:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def online(gosd: LiveGosd, node_id: int, within: float = 20) -> None:
    deadline = time.monotonic() + within
    while not next(n for n in gosd.call("GET", "/api/v1/nodes/") if n["id"] == node_id)["online"]:
        assert time.monotonic() < deadline, "the node never came online"
        time.sleep(0.2)


def log_of(gosd: LiveGosd, plan_id: int, job_id: int) -> str:
    r = httpx.get(
        f"{gosd.base}/api/v2/plans/{plan_id}/jobs/{job_id}/log", headers={"Authorization": f"Bearer {gosd.token}"}
    )
    assert r.status_code == 200, r.text
    return r.text


@pytest.mark.parametrize("embedded", [True, False], ids=["embedded-broker", "mosquitto"])
def test_a_plan_drives_the_simulated_drone(tmp_path: Path, embedded: bool) -> None:
    with live_gosd(tmp_path, embedded=embedded, workers=2, run_workers=True) as gosd:
        node_id, secret = gosd.node("air")
        agent = start_agent(gosd, node_id, secret, "--home", "22.5400,114.0570")  # a short flight
        try:
            online(gosd, node_id)
            plan_id = plan(gosd, node_id, FLIGHT, lat="22.5431", lng="114.0579")
            job = gosd.call("POST", f"/api/v2/plans/{plan_id}/jobs/", 201)
            assert {"id", "job_id", "plan_id", "files", "extra", "created_at", "updated_at"} <= set(job)
            assert job["state"] == "queued" and job["job_id"] == 1
            done = wait_state(gosd, plan_id, 1, ("succeeded", "failed", "cancelled"))
            assert done["state"] == "succeeded", done
            assert done["extra"] == {"result": "ok"}
            assert {"luavm", "report"} <= set(done["files"])
            log = log_of(gosd, plan_id, 1)
            assert "taking off" in log and "at 22.5431" in log and "finished" in log
            report = httpx.get(
                f"{gosd.base}/api/v2/blobs/{done['files']['report']}",
                headers={"Authorization": f"Bearer {gosd.token}"},
            )
            assert report.json() == {"landed": True}
            listed = gosd.call("GET", f"/api/v2/plans/{plan_id}/jobs/")
            assert [j["job_id"] for j in listed] == [1] and listed[0]["plan_id"] == plan_id
            assert gosd.call("GET", f"/api/v2/plans/{plan_id}/running") == {}
        finally:
            stop_agent(agent)


def test_cancel_stops_the_script_and_tells_the_node(tmp_path: Path) -> None:
    with live_gosd(tmp_path, embedded=True, workers=2, run_workers=True) as gosd:
        node_id, secret = gosd.node("air")
        agent = start_agent(gosd, node_id, secret)
        try:
            online(gosd, node_id)
            plan_id = plan(gosd, node_id, LONG)
            gosd.call("POST", f"/api/v2/plans/{plan_id}/jobs/", 201)
            wait_state(gosd, plan_id, 1, ("running",))
            assert gosd.call("GET", f"/api/v2/plans/{plan_id}/running")["job_id"] == 1
            # A second job waits: one job per node at a time.
            gosd.call("POST", f"/api/v2/plans/{plan_id}/jobs/", 201)
            time.sleep(1.5)
            assert gosd.call("GET", f"/api/v2/plans/{plan_id}/jobs/2")["state"] == "queued"
            assert gosd.call("POST", f"/api/v2/plans/{plan_id}/jobs/1/cancel") == []
            job = wait_state(gosd, plan_id, 1, ("succeeded", "failed", "cancelled"), within=20)
            assert job["state"] == "cancelled", job
            assert "was told to cancel" in log_of(gosd, plan_id, 1)
            # The spec's form without a job id cancels what is left.
            assert gosd.call("POST", f"/api/v2/plans/{plan_id}/jobs/cancel") == []
            assert wait_state(gosd, plan_id, 2, ("cancelled",), within=20)["state"] == "cancelled"
            assert gosd.call("DELETE", f"/api/v2/plans/{plan_id}/jobs/running") == []  # nothing left: still []
        finally:
            stop_agent(agent)


def test_a_killed_agent_fails_its_job(tmp_path: Path) -> None:
    with live_gosd(tmp_path, embedded=True, workers=2, run_workers=True) as gosd:
        node_id, secret = gosd.node("air")
        agent = start_agent(gosd, node_id, secret)
        try:
            online(gosd, node_id)
            plan_id = plan(gosd, node_id, LONG)
            gosd.call("POST", f"/api/v2/plans/{plan_id}/jobs/", 201)
            wait_state(gosd, plan_id, 1, ("running",))
            time.sleep(0.5)
            agent.send_signal(signal.SIGKILL)
            job = wait_state(gosd, plan_id, 1, ("succeeded", "failed", "cancelled"), within=60)
            assert job["state"] == "failed" and "went offline" in job["error"], job
            node = next(n for n in gosd.call("GET", "/api/v1/nodes/") if n["id"] == node_id)
            assert node["online"] is False
        finally:
            stop_agent(agent)


@pytest.mark.parametrize(
    ("script", "expected"),
    [
        ("function main(plan) while true do end end", "CPU"),
        ('function main(plan) os.execute("touch /tmp/x") end', "os.execute is not available"),
    ],
)
def test_bad_scripts_fail(tmp_path: Path, script: str, expected: str) -> None:
    with live_gosd(tmp_path, embedded=True, workers=1, run_workers=True, gosd_lua_cpu_seconds=1.0) as gosd:
        node_id, secret = gosd.node("air")
        agent = start_agent(gosd, node_id, secret)
        try:
            online(gosd, node_id)
            plan_id = plan(gosd, node_id, script)
            gosd.call("POST", f"/api/v2/plans/{plan_id}/jobs/", 201)
            job = wait_state(gosd, plan_id, 1, ("succeeded", "failed", "cancelled"), within=30)
            assert job["state"] == "failed" and expected in job["error"], job
            assert "luavm" in job["files"]
        finally:
            stop_agent(agent)


def test_an_offline_node_fails_at_once(tmp_path: Path) -> None:
    with live_gosd(tmp_path, embedded=True, workers=1, run_workers=True) as gosd:
        node_id, _ = gosd.node("air")
        plan_id = plan(gosd, node_id, FLIGHT)
        gosd.call("POST", f"/api/v2/plans/{plan_id}/jobs/", 201)
        job = wait_state(gosd, plan_id, 1, ("succeeded", "failed", "cancelled"), within=30)
        assert job["state"] == "failed" and "offline" in job["error"], job


def test_the_agent_pushes_its_live_point(tmp_path: Path) -> None:
    """The agent's FFmpeg test source reaches the ingest; the point's HTTP-FLV URL yields decodable frames."""
    from tests.services.gosd.live.test_live import read_flv

    settings = {"rtmp_enabled": True, "rtmp_port": free_port(), "rtmp_heartbeat_seconds": 1}
    with live_gosd(tmp_path, embedded=True, **settings) as gosd:
        node_id, secret = gosd.node("air", points=[{"name": "front", "type": "livestream_flv"}])
        agent = start_agent(gosd, node_id, secret, "--video", "lavfi")  # the last --video wins
        try:
            deadline = time.monotonic() + 30
            while True:
                node = next(n for n in gosd.call("GET", "/api/v1/nodes/") if n["id"] == node_id)
                point = node["points"][0]
                if point["live"]:
                    break
                assert time.monotonic() < deadline, node
                time.sleep(0.3)
            url = point["params"]["url"]
            assert url.endswith(".flv")
            flv = tmp_path / "view.flv"
            flv.write_bytes(read_flv(url, enough=60_000))
            assert decoded_frames(flv) > 5
        finally:
            stop_agent(agent)


def decoded_frames(path: Path) -> int:
    """Frames decoded from a stream cut off anywhere (its last tag may be partial)."""
    frames = 0
    with av.open(str(path)) as container:
        try:
            for _ in container.decode(container.streams.video[0]):
                frames += 1
        except av.error.InvalidDataError:
            pass
    return frames
