"""gosd's dashboard in the console, through the app: the fleet's nodes and their points, plans made from the
form (gosd's own messages and Lua's compile errors beside the fields, from a text area or a file), a plan run as
a job, cancelled after a confirmation, the live state the pages receive, and nothing of another tenant's fleet."""

from __future__ import annotations

import re

import httpx
import pytest

from mediaplane.core.runtime import Runtime
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
    return found.group(1)


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
    assert f'href="{BOARD}/nodes/{node["id"]}">Drone</a>' in page.text
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
    for path in ("/nodes/abc", "/nodes/999999", "/plans/0", f"/plans/{plan_id}/jobs/9", "/static/x.js"):
        assert (await console.client.get(f"{BOARD}{path}")).status_code == 404, path
    # Every form wants the page's token.
    r = await console.client.post(f"{BOARD}/plans/{plan_id}/run", data={}, headers={"origin": ORIGIN})
    assert r.status_code == 403
    # Another tenant's fleet of the same name is not reachable, nor are this fleet's rows from it.
    other = await factory.create_tenant("other", password=PASSWORD)
    await factory.create_instance(await factory.sat(other.pat, "gosd"), "gosd", "fleet", **OPTIONS)
    console.client.cookies.clear()
    await console.signed_in("other")
    assert (await console.client.get(f"{BOARD}/plans/{plan_id}")).status_code == 404
    assert (await console.client.get(f"{BOARD}/nodes/{node['id']}")).status_code == 404
    assert (await console.client.get(f"{BOARD}/state")).json() == {"nodes": [], "jobs": []}
    assert (await console.client.get("/console/gosd/nowhere/")).status_code == 404
