"""gosd's dashboard in the console, through the app: the fleet's nodes and their points, a node added from the
form (its secret shown once and good for the agent), a new secret and a delete after their confirmations, plans
made from the form (gosd's own messages and Lua's compile errors beside the fields, from a text area or a file),
extra for plans and jobs, a plan run as a job, cancelled after a confirmation, the live state the pages receive
(nodes coming and going), and nothing of another tenant's fleet."""

from __future__ import annotations

import re
from html import unescape

import httpx
import pytest

from mediaplane.core.runtime import Runtime
from mediaplane.services.gosd.agent.cli import ENV as AGENT_ENV
from tests.console.conftest import ORIGIN, PASSWORD, Console
from tests.fixtures.factories import Factory
from tests.services.gosd.conftest import OPTIONS, Gosd

BOARD = "/console/gosd/fleet"
SCRIPT = 'function main(plan)\n  print("hello")\nend\n'


@pytest.fixture
async def fleet(factory: Factory, client: httpx.AsyncClient, runtime: Runtime) -> Gosd:
    """Tenant acme (a console password) with a gosd instance `fleet`, signed in to gosd's API too."""
    acme = await factory.create_tenant("acme", password=PASSWORD)
    sat = await factory.sat(acme.pat, "gosd")
    gosd = Gosd(client, runtime, sat, "fleet", await factory.create_instance(sat, "gosd", "fleet", **OPTIONS))
    gosd.token = await gosd.login()
    return gosd


@pytest.fixture
async def console(fleet: Gosd, client: httpx.AsyncClient) -> Console:
    console = Console(client)
    await console.signed_in()
    return console


def field_error(html: str, field_id: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field_id}-error">([^<]*)</p>', html)
    assert found, html
    return unescape(found.group(1))


async def make_plan(console: Console, node_id: int, name: str = "hello") -> int:
    r = await console.post(f"{BOARD}/plans", {"name": name, "node_id": str(node_id), "lua": SCRIPT})
    found = re.fullmatch(rf"{BOARD}/plans/(\d+)\?done=plan", r.headers.get("location", ""))
    assert r.status_code == 303 and found, r.text
    return int(found.group(1))


async def test_nodes_plans_and_a_cancelled_job(console: Console, fleet: Gosd) -> None:
    page = await console.client.get(f"{BOARD}/")
    assert page.status_code == 200
    assert "No nodes yet." in page.text and "add a node first" in page.text and "No jobs yet" in page.text
    assert f'data-gosd-events="{BOARD}/events"' in page.text

    points = [{"name": "Camera", "type": "livestream_hls"}, {"name": "Map", "type": "map"}]
    node = await fleet.node("Drone", points=points)
    page = await console.client.get(f"{BOARD}/")
    assert f'href="{BOARD}/nodes/{node["id"]}" data-field="name">Drone</a>' in page.text
    assert 'data-field="presence">offline<' in page.text and "No plans yet" in page.text

    # The node page: its points, a player for the video point (not live: the video route says so).
    page = await console.client.get(f"{BOARD}/nodes/{node['id']}")
    assert page.status_code == 200 and "livestream_hls" in page.text and "map" in page.text
    camera = node["points"][0]["id"]
    assert f'data-video="{BOARD}/points/{camera}/video/index.m3u8"' in page.text
    assert page.text.count("<video") == 1
    video = await console.client.get(f"{BOARD}/points/{camera}/video/index.m3u8")
    assert (video.status_code, video.text) == (404, "This point is not live.")

    # gosd's validation and Lua's, beside the fields; the values kept.
    r = await console.post(f"{BOARD}/plans", {"name": "", "node_id": str(node["id"]), "lua": SCRIPT})
    assert r.status_code == 400 and field_error(r.text, "plan-name") == "Required"
    r = await console.post(f"{BOARD}/plans", {"name": "x", "node_id": "999999", "lua": SCRIPT})
    assert r.status_code == 400 and field_error(r.text, "plan-node").startswith("No node 999999")
    r = await console.post(f"{BOARD}/plans", {"name": "broken", "node_id": str(node["id"]), "lua": "function main("})
    assert r.status_code == 400
    assert field_error(r.text, "plan-lua").startswith("The script does not compile: plan.lua:1:")
    assert 'value="broken"' in r.text and "function main(</textarea>" in r.text
    assert (await console.client.get(f"{BOARD}/")).text.count("No plans yet") == 1  # nothing was kept

    plan_id = await make_plan(console, node["id"])
    page = await console.client.get(f"{BOARD}/plans/{plan_id}?done=plan")
    assert "The plan is created." in page.text and "print(&#34;hello&#34;)" in page.text
    plan = await fleet.ok("GET", f"/api/v2/plans/{plan_id}")
    assert plan["node_id"] == node["id"] and set(plan["files"]) == {"lua"}

    # From a file: the same checks, the file's script kept in the plan.
    token = await console.csrf(f"{BOARD}/")
    form = {"csrf_token": token, "name": "from-file", "node_id": str(node["id"]), "lua": ""}
    upload = {"lua_file": ("flight.lua", b"function main(plan) print('file') end\n", "text/plain")}
    r = await console.client.post(f"{BOARD}/plans", data=form, files=upload, headers={"origin": ORIGIN})
    assert r.status_code == 303, r.text

    # Run: a queued job (no workers here), cancelled after the confirmation page.
    r = await console.post(f"{BOARD}/plans/{plan_id}/run")
    assert (r.status_code, r.headers["location"]) == (303, f"{BOARD}/plans/{plan_id}/jobs/1?done=run")
    page = await console.client.get(f"{BOARD}/plans/{plan_id}/jobs/1")
    assert 'data-field="state" role="status">queued<' in page.text and "Cancel this job…" in page.text
    log = await console.client.get(f"{BOARD}/plans/{plan_id}/jobs/1/log")
    assert log.status_code == 404
    confirm = await console.client.get(f"{BOARD}/plans/{plan_id}/jobs/1/cancel")
    assert "Cancel job 1 of hello?" in confirm.text and "It will not start." in confirm.text
    r = await console.post(f"{BOARD}/plans/{plan_id}/jobs/1/cancel")
    assert (r.status_code, r.headers["location"]) == (303, f"{BOARD}/plans/{plan_id}/jobs/1?done=cancelled")
    job = await fleet.ok("GET", f"/api/v2/plans/{plan_id}/jobs/1")
    assert job["state"] == "cancelled"

    state = (await console.client.get(f"{BOARD}/state")).json()
    assert [(n["id"], n["online"]) for n in state["nodes"]] == [(node["id"], False)]
    assert state["nodes"][0]["points"][0] == {"id": camera, "type": "livestream_hls", "video": True, "live": False}
    assert [(j["planId"], j["jobId"], j["state"], j["ended"]) for j in state["jobs"]] == [
        (plan_id, 1, "cancelled", True)
    ]
    board = (await console.client.get(f"{BOARD}/")).text
    assert 'data-field="state">cancelled<' in board and ">from-file</a>" in board


async def test_refusals(console: Console, fleet: Gosd, factory: Factory) -> None:
    node = await fleet.node("Drone")
    plan_id = await make_plan(console, node["id"])
    missing = ("/nodes/abc", "/nodes/999999", "/nodes/0/delete", "/nodes/x/secret", "/plans/0", "/plans/0/cancel")
    for path in (*missing, f"/plans/{plan_id}/jobs/9", "/static/x.js"):
        assert (await console.client.get(f"{BOARD}{path}")).status_code == 404, path
    # Every form wants the page's token.
    for path in (f"/plans/{plan_id}/run", f"/nodes/{node['id']}/delete", f"/nodes/{node['id']}/secret", "/nodes"):
        r = await console.client.post(f"{BOARD}{path}", data={"name": "x"}, headers={"origin": ORIGIN})
        assert r.status_code == 403, path
    assert [n["secret_set_at"] for n in await fleet.ok("GET", "/api/v1/nodes/")] == [None]
    # Another tenant's fleet of the same name is not reachable, nor are this fleet's rows from it.
    other = await factory.create_tenant("other", password=PASSWORD)
    await factory.create_instance(await factory.sat(other.pat, "gosd"), "gosd", "fleet", **OPTIONS)
    console.client.cookies.clear()
    await console.signed_in("other")
    assert (await console.client.get(f"{BOARD}/plans/{plan_id}")).status_code == 404
    assert (await console.client.get(f"{BOARD}/nodes/{node['id']}")).status_code == 404
    assert (await console.post(f"{BOARD}/nodes/{node['id']}/delete")).status_code == 404
    assert (await console.post(f"{BOARD}/nodes/{node['id']}/secret")).status_code == 404
    assert (await console.client.get(f"{BOARD}/state")).json() == {"nodes": [], "jobs": []}
    assert (await console.client.get("/console/gosd/nowhere/")).status_code == 404


def secret_on(page: str) -> str:
    found = re.search(r'<code id="node-secret">([^<]+)</code>', page)
    assert found, page
    return found.group(1)


async def agent_answer(fleet: Gosd, node_id: int, secret: str) -> int:
    """What gosd's agent endpoint says to `mediaplane gosd-agent` signing in with this secret."""
    r = await fleet.client.get(f"{fleet.base}/api/v2/agent", auth=(str(node_id), secret))
    return r.status_code


async def test_add_a_node_and_start_its_agent(console: Console, fleet: Gosd) -> None:
    # gosd's refusals beside their fields (a point's with its line, as the form shows it again); nothing kept.
    form = {"name": "", "type_name": "air", "description": "", "points": "", "secret": "on"}
    r = await console.post(f"{BOARD}/nodes", form)
    assert r.status_code == 400 and field_error(r.text, "node-name") == "Required"
    r = await console.post(f"{BOARD}/nodes", {**form, "name": "Drone", "type_name": "Big Drone"})
    assert field_error(r.text, "node-type").startswith("1 to 32 characters of a-z")
    r = await console.post(f"{BOARD}/nodes", {**form, "name": "Drone", "points": "\n map\n\nradar:Front"})
    assert field_error(r.text, "node-points").startswith("Line 2: Unknown point type 'radar'")
    assert 'value="Drone"' in r.text and ">map\nradar:Front</textarea>" in r.text
    assert await fleet.ok("GET", "/api/v1/nodes/") == []

    points = "livestream_hls:Front camera\nmap"
    r = await console.post(f"{BOARD}/nodes", {**form, "name": "Drone", "description": "Yard", "points": points})
    assert r.status_code == 200 and "only time the node secret is shown" in r.text
    secret = secret_on(r.text)
    assert 'data-copy="node-secret"' in r.text and 'data-copy="node-command"' in r.text
    [node] = await fleet.ok("GET", "/api/v1/nodes/")
    assert (node["name"], node["type_name"], node["description"]) == ("Drone", "air", "Yard")
    assert [(p["type"], p["name"]) for p in node["points"]] == [("livestream_hls", "Front camera"), ("map", "")]
    server = f"http://testserver{fleet.base}"
    assert f"export {AGENT_ENV}SECRET={secret}\nmediaplane gosd-agent --server {server} --node {node['id']}" in r.text
    assert await agent_answer(fleet, node["id"], secret) == 200  # what the agent signs in with

    # Never shown again: not on the board, which lists the node, nor on the node's page.
    board = (await console.client.get(f"{BOARD}/")).text
    page = (await console.client.get(f"{BOARD}/nodes/{node['id']}")).text
    assert secret not in board and secret not in page and "Delete this node…" in page
    assert f'href="{BOARD}/nodes/{node["id"]}" data-field="name">Drone</a>' in board
    assert 'data-field="no-nodes" hidden' in board and 'data-field="plan-form" hidden' not in board

    # Without a secret: the page says how to make one, and no secret exists.
    r = await console.post(f"{BOARD}/nodes", {**form, "name": "Depot", "type_name": "depot", "secret": ""})
    assert r.status_code == 200 and 'id="node-secret"' not in r.text and "make its secret" in r.text
    depot = (await fleet.ok("GET", "/api/v1/nodes/"))[1]
    assert depot["type_name"] == "depot" and depot["secret_set_at"] is None


async def test_new_secret_and_delete_after_confirmations(console: Console, fleet: Gosd) -> None:
    drone = await fleet.node("Drone", points=[{"name": "Camera", "type": "livestream_flv"}])
    depot = await fleet.node("Depot", type_name="depot")
    plan_id = await make_plan(console, depot["id"], name="dock")

    # A first secret, then a new one: each shown once, after its confirmation; the old one stops working.
    confirm = await console.client.get(f"{BOARD}/nodes/{drone['id']}/secret")
    assert "Make a secret for “Drone”?" in confirm.text and 'action="' in confirm.text
    first = secret_on((await console.post(f"{BOARD}/nodes/{drone['id']}/secret")).text)
    confirm = await console.client.get(f"{BOARD}/nodes/{drone['id']}/secret")
    assert "Give “Drone” a new secret?" in confirm.text and "stops working at once" in confirm.text
    r = await console.post(f"{BOARD}/nodes/{drone['id']}/secret")
    second = secret_on(r.text)
    assert "the old one no longer works" in r.text and first != second
    assert [await agent_answer(fleet, drone["id"], s) for s in (first, second)] == [401, 200]

    # A node a plan runs on is not deleted: the confirmation names the plan, and gosd's refusal is shown.
    confirm = await console.client.get(f"{BOARD}/nodes/{depot['id']}/delete")
    assert f'href="{BOARD}/plans/{plan_id}">dock</a>' in confirm.text and "Delete the node</button>" not in confirm.text
    r = await console.post(f"{BOARD}/nodes/{depot['id']}/delete")
    assert r.status_code == 409 and f"Node {depot['id']} is used by plans {plan_id}" in r.text
    assert (await fleet.ok("GET", f"/api/v1/nodes/{depot['id']}"))["name"] == "Depot"

    confirm = await console.client.get(f"{BOARD}/nodes/{drone['id']}/delete")
    assert "Delete the node “Drone”?" in confirm.text and "Its 1 point goes with it" in confirm.text
    r = await console.post(f"{BOARD}/nodes/{drone['id']}/delete")
    assert (r.status_code, r.headers["location"]) == (303, f"{BOARD}/?done=deleted")
    assert (await fleet.request("GET", f"/api/v1/nodes/{drone['id']}")).status_code == 404
    assert await agent_answer(fleet, drone["id"], second) == 401
    board = await console.client.get(f"{BOARD}/?done=deleted")
    assert "The node is deleted with its points" in board.text and f'data-node="{drone["id"]}"' not in board.text


async def test_the_live_state_follows_nodes_added_and_deleted_elsewhere(console: Console, fleet: Gosd) -> None:
    """The board's script adds and removes rows (and the plan form's choices) from this state: every node, each
    event; without the script, the page is rendered with them."""
    board = (await console.client.get(f"{BOARD}/")).text
    assert 'data-field="nodes-table" hidden' in board and 'data-field="plan-form" hidden' in board
    assert f'<tbody data-nodes="{BOARD}/nodes/">' in board and '<template data-field="node-row">' in board
    node = await fleet.node("Drone", points=[{"name": "Camera", "type": "livestream_hls"}])
    state = (await console.client.get(f"{BOARD}/state")).json()
    assert [(n["id"], n["name"], n["typeName"], len(n["points"])) for n in state["nodes"]] == [
        (node["id"], "Drone", "air", 1)
    ]
    await fleet.ok("DELETE", f"/api/v1/nodes/{node['id']}")
    assert (await console.client.get(f"{BOARD}/state")).json()["nodes"] == []


async def test_extra_of_plans_and_jobs_and_cancelling_a_plans_jobs(console: Console, fleet: Gosd) -> None:
    node = await fleet.node("Drone")
    form = {"name": "survey", "node_id": str(node["id"]), "lua": SCRIPT}
    r = await console.post(f"{BOARD}/plans", {**form, "extra": "speed=5\nnope"})
    assert r.status_code == 400 and field_error(r.text, "plan-extra") == "Line 2: give KEY=VALUE"
    r = await console.post(f"{BOARD}/plans", {**form, "extra": "speed=5\n\n mode = grid "})
    plan_id = int(r.headers["location"].split("/")[-1].split("?")[0])
    assert (await fleet.ok("GET", f"/api/v2/plans/{plan_id}"))["extra"] == {"speed": "5", "mode": "grid"}

    r = await console.post(f"{BOARD}/plans/{plan_id}/run", {"extra": "roof"})
    assert r.status_code == 400 and field_error(r.text, "run-extra") == "Line 1: give KEY=VALUE"
    for target in ("roof", "yard"):
        r = await console.post(f"{BOARD}/plans/{plan_id}/run", {"extra": f"target={target}"})
        assert r.status_code == 303, r.text
    jobs = await fleet.ok("GET", f"/api/v2/plans/{plan_id}/jobs")
    assert sorted((j["job_id"], j["extra"]["target"], j["state"]) for j in jobs) == [
        (1, "roof", "queued"),
        (2, "yard", "queued"),
    ]

    # Every queued and running job of the plan, after a confirmation (as `mediaplane gosd cancel NAME PLAN`).
    page = await console.client.get(f"{BOARD}/plans/{plan_id}")
    assert "Cancel every queued and running job of this plan…" in page.text
    confirm = await console.client.get(f"{BOARD}/plans/{plan_id}/cancel")
    assert "2 jobs (#1 queued, #2 queued)" in confirm.text
    r = await console.post(f"{BOARD}/plans/{plan_id}/cancel")
    assert (r.status_code, r.headers["location"]) == (303, f"{BOARD}/plans/{plan_id}?done=cancelled-all")
    assert {j["state"] for j in await fleet.ok("GET", f"/api/v2/plans/{plan_id}/jobs")} == {"cancelled"}
    page = await console.client.get(f"{BOARD}/plans/{plan_id}?done=cancelled-all")
    assert "queued jobs are cancelled" in page.text and "Cancel every queued" not in page.text
