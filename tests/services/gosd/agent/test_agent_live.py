"""The agent as a real process (`python -m mediaplane gosd-agent`) against a live server and the system Mosquitto:
presence, telemetry, RPC (answers, errors, resends), clean exit and its last will."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from mediaplane.services.gosd.agent import Agent, AgentConfig
from tests.fixtures.servers import free_port
from tests.services.gosd.agent.live import (
    MOSQUITTO,
    LiveGosd,
    Proxy,
    live_gosd,
    start_agent,
    stop_agent,
    watching,
)


@pytest.fixture(scope="module")
def gosd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGosd]:
    with live_gosd(tmp_path_factory.mktemp("gosd")) as live:
        yield live


def online(status: object) -> bool:
    return isinstance(status, dict) and status.get("code") == 0


def offline(status: object) -> bool:
    return isinstance(status, dict) and status.get("code") == 1 and status.get("msg") == "offline"


async def test_a_drone_flies_on_request_and_says_goodbye(gosd: LiveGosd) -> None:
    node_id, secret = gosd.node("air")
    async with watching(gosd.prefix, node_id) as node:
        agent = start_agent(gosd, node_id, secret, "--link-id", "7")
        try:
            status = await node.until(lambda: node.last("status") if online(node.last("status")) else None)
            assert status["msg"] == "online" and status["timestamp"].isdigit()
            assert status["status"]["type"] == "drone" and status["status"]["link_id"] == 7
            assert {"lat", "lng", "alt"} <= set(status["status"])
            await node.until(lambda: node.last("msg/position") and node.last("msg/battery"))
            await node.until(lambda: node.last("msg/drone_status") and node.last("msg/gimbal"))
            assert node.last("msg/drone_status")["flying"] is False
            network = await node.until(lambda: node.last("network"))
            assert 0 <= network["loss"] <= 100 and network["delay"] >= 0

            refused = await node.call("goto", {"lat": 22.5, "lng": 113.9})
            assert refused["error"] == {"code": -32000, "message": "not flying"}
            took_off = await node.call("takeoff", {"alt": 15})
            assert took_off["result"]["alt"] == 15 and took_off["result"]["mode"] == "hover"
            assert node.last("msg/drone_status")["flying"] is True
            start = node.last("msg/position")
            target = {"lat": start["lat"] + 0.001, "lng": start["lng"], "alt": 20}  # 111 m north
            arrived = await node.call("goto", target)
            assert arrived["result"]["lat"] == pytest.approx(target["lat"]) and arrived["result"]["alt"] == 20
            moving = [p for p in node.of("msg/position") if start["lat"] < p["lat"] < target["lat"]]
            assert moving and all(p["speed"] > 0 for p in moving)  # seen on the way, not only at the end
            landed = await node.call("land")
            assert landed["result"]["alt"] == 0 and landed["result"]["mode"] == "landed"
            assert node.last("msg/battery")["percent"] < 100

            unknown = await node.call("no_such_method")
            assert unknown["error"] == {"code": -32601, "message": "Method not found"}
            bad = await node.call("takeoff", {"alt": "high"})
            assert bad["error"]["code"] == -32602
        finally:
            out = stop_agent(agent)
        assert agent.returncode == 0, out
        # A clean exit publishes the offline status itself, retained.
        await node.until(lambda: offline(node.last("status")))


async def test_resent_requests_run_once(gosd: LiveGosd) -> None:
    node_id, secret = gosd.node("air")
    async with watching(gosd.prefix, node_id) as node:
        agent = start_agent(gosd, node_id, secret)
        try:
            await node.until(lambda: online(node.last("status")))
            first = await node.call("cam_photo")
            await node.send("photo-1", "cam_photo")
            await node.until(lambda: node.answers("photo-1"))
            await node.send("photo-1", "cam_photo")  # the cloud's resend after 2 s
            await node.until(lambda: len(node.answers("photo-1")) == 2)
            assert node.answers("photo-1")[0] == node.answers("photo-1")[1]
            assert node.answers("photo-1")[0]["result"] == {"photo": first["result"]["photo"] + 1}
            after = await node.call("cam_photo")
            assert after["result"] == {"photo": first["result"]["photo"] + 2}  # the resend did not take a photo

            # Resent while still running: no second run, one answer when it ends, the same again on a later resend.
            await node.call("takeoff")
            here = node.last("msg/position")
            far = {"lat": here["lat"] + 0.0015, "lng": here["lng"]}  # 167 m: 0.8 s
            await node.send("far", "goto", far)
            await node.send("far", "goto", far)
            await node.until(lambda: node.answers("far"))
            await node.send("far", "goto", far)
            await node.until(lambda: len(node.answers("far")) == 2)
            assert "result" in node.answers("far")[0] and node.answers("far")[0] == node.answers("far")[1]

            # A notification gets no answer; `cancel` stops the move in progress, whose request fails.
            await node.send("back", "goto", {"lat": here["lat"], "lng": here["lng"]})
            await node.until(lambda: node.last("msg/drone_status")["mode"] == "goto")
            await node.send(None, "cancel", {"job_id": 3})
            stopped = await node.until(lambda: node.answers("back"))
            assert stopped[0]["error"] == {"code": -32000, "message": "cancelled (job 3)"}
            assert node.last("msg/drone_status")["mode"] == "hover"
        finally:
            out = stop_agent(agent)
        assert agent.returncode == 0, out


async def test_a_killed_agent_leaves_its_will(gosd: LiveGosd) -> None:
    node_id, secret = gosd.node("depot")
    async with watching(gosd.prefix, node_id) as node:
        agent = start_agent(gosd, node_id, secret)
        try:
            await node.until(lambda: online(node.last("status")))
            assert node.last("status")["status"]["type"] == "depot"
            depot = await node.until(lambda: node.last("msg/depot_status"))
            assert depot == {"door": "closed", "drone_fixed": True, "charging": False}
            opened = await node.call("dooropen")
            assert opened["result"]["door"] == "open"
            assert [s["door"] for s in node.of("msg/depot_status")][-2:] == ["opening", "open"]
            assert (await node.call("freedrone"))["result"]["drone_fixed"] is False
            refused = await node.call("power_chargedrone_on")
            assert refused["error"]["message"].startswith("no drone held")
            await node.until(lambda: node.last("msg/weather") and node.last("msg/charger"))
        finally:
            out = stop_agent(agent, signal.SIGKILL)
        assert agent.returncode == -signal.SIGKILL, out
        will = await node.until(lambda: node.last("status") if offline(node.last("status")) else None)
        assert will["status"]["type"] == "depot"


async def test_a_wrong_secret_ends_the_agent(gosd: LiveGosd) -> None:
    node_id, _ = gosd.node("air")
    agent = start_agent(gosd, node_id, "not-the-secret")
    out = stop_agent(agent) if agent.wait(20) is None else agent.communicate()[0].decode()
    assert agent.returncode == 1 and "refused node" in out, out


def test_the_server_side_topics_are_the_agents(tmp_path: Path) -> None:
    from mediaplane.services.gosd.agent.topics import NodeTopics
    from mediaplane.services.gosd.mqtt.settings import Topics

    ours, theirs = NodeTopics(5, "p/"), Topics("p/")
    assert (ours.status, ours.network, ours.msg("battery")) == (
        theirs.status(5),
        theirs.network(5),
        theirs.msg(5, "battery"),
    )
    assert (ours.rpc_send, ours.rpc_recv) == (theirs.rpc_send(5), theirs.rpc_recv(5))


async def test_the_agent_comes_back_after_the_broker_drops(gosd: LiveGosd) -> None:
    node_id, secret = gosd.node("air")
    proxy = await Proxy(MOSQUITTO).start()
    config = AgentConfig(gosd.base, node_id, secret, mqtt_url=f"mqtt://127.0.0.1:{proxy.port}", video="none")
    stop = asyncio.Event()
    async with watching(gosd.prefix, node_id) as node:
        task = asyncio.create_task(Agent(config).run(stop))
        try:
            await node.until(lambda: online(node.last("status")))
            proxy.drop()
            await node.until(lambda: offline(node.last("status")))  # the broker published the will
            await node.until(lambda: online(node.last("status")))  # and the agent is back
            assert proxy.accepted == 2
            assert (await node.call("cam_photo"))["result"] == {"photo": 1}
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await proxy.close()
        await node.until(lambda: offline(node.last("status")))


async def test_the_agent_waits_for_its_server(gosd: LiveGosd) -> None:
    node_id, secret = gosd.node("depot")
    api = urlsplit(gosd.base)
    port = free_port()
    config = AgentConfig(f"http://127.0.0.1:{port}{api.path}", node_id, secret, video="none")
    stop = asyncio.Event()
    agent = Agent(config)
    proxy = Proxy((api.hostname or "", api.port or 80), port)
    async with watching(gosd.prefix, node_id) as node:
        task = asyncio.create_task(agent.run(stop))
        try:
            await asyncio.sleep(0.5)  # the first try has failed: nothing listens yet
            assert agent.boot is None and not task.done()
            await proxy.start()
            await node.until(lambda: online(node.last("status")))
        finally:
            stop.set()
            await asyncio.wait_for(task, 10)
            await proxy.close()
