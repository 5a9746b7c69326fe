"""Every example of specs/gosd.md that this service covers (ok, token, nodes, blobs, plans), sent as the spec
writes it (multipart with files for blobs, JSON for plans); answers compared with the spec's examples key by
key and type by type (ids differ per run; values that the request decides must be equal)."""

from __future__ import annotations

import json
import re
from typing import Any

from mediaplane.kit.clock import FrozenClock
from mediaplane.services.gosd.live import play_name
from tests.services.gosd.conftest import Gosd, grant, multipart

NODES_ANSWER = """[
{"id":1,"name":"Drone","description":"A Test Drone",
 "points":[{"id":1,"name":"aa","node_id":1,"point_type_id":2,"point_type_name":"livestream_flv"}],
 "type_name":"air"},
{"id":2,"name":"Depot","description":"A Test Depot","points":[],"type_name":"depot"}
]"""
PLAN = """{
"name":"233",
"description":"test",
"node_id":%d,
"files": {
"file":"%s"
},
"extra":{
"key1":"value1",
"key2":"value2",
"key3":"value3"
}
}"""
PLAN_ANSWER = """{
"id": 35,
"name": "233",
"description": "test",
"node_id": 1,
"files": {
"file": "30"
},
"extra":{
"key1": "value1",
"key2": "value2",
"key3": "value3"
}
}"""
# The extra fields of mediaplane's answers (docs/gosd.md); everything else must be the spec's.
NODE_EXTRAS = frozenset({"created_at", "updated_at", "secret_set_at", "online", "status"})
POINT_EXTRAS = frozenset({"type", "params", "live"})


def same_shape(answer: Any, example: Any, extras: frozenset[str] = frozenset(), path: str = "$") -> None:
    """Same keys (bar `extras`) and JSON types as the example, recursively."""
    if isinstance(example, dict):
        assert isinstance(answer, dict), f"{path}: {answer!r}"
        assert set(answer) - extras == set(example), f"{path}: {sorted(answer)} vs {sorted(example)}"
        for key, value in example.items():
            same_shape(answer[key], value, extras, f"{path}.{key}")
    elif isinstance(example, list):
        assert isinstance(answer, list), f"{path}: {answer!r}"
        for item in answer:
            if example:
                same_shape(item, example[0], extras, f"{path}[]")
    else:
        assert type(answer) is type(example), f"{path}: {answer!r} is not like {example!r}"


async def test_ok_needs_no_token(gosd: Gosd) -> None:
    body = await gosd.ok("GET", "/api/v2/ok", token="")
    assert set(body) == {"ok"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} [+-]\d{4} \S+", body["ok"]), body


async def test_token_with_curl_f(gosd: Gosd, clock: FrozenClock) -> None:
    r = await gosd.client.post(f"{gosd.base}/oauth/token", files=multipart(grant()))
    assert r.status_code == 200, r.text
    body = r.json()
    same_shape(body, {"access_token": "x", "token_type": "bearer", "expires_in": 7200, "created_at": 1591863615})
    assert re.fullmatch(r"[0-9a-f]{64}", body["access_token"])
    assert (body["token_type"], body["expires_in"], body["created_at"]) == ("bearer", 7200, clock.timestamp())
    assert r.headers["cache-control"] == "no-store"
    # And the token works, as the BASE_URL example sends it.
    assert await gosd.ok("GET", "/api/v1/nodes/", token=body["access_token"]) == []


async def test_list_nodes(gosd: Gosd) -> None:
    drone = await gosd.node("Drone", "air", points=[{"name": "aa", "point_type_name": "livestream_flv"}])
    await gosd.node("Depot", "depot")
    nodes = await gosd.ok("GET", "/api/v1/nodes/")
    example = json.loads(NODES_ANSWER)
    same_shape(nodes, example, NODE_EXTRAS | POINT_EXTRAS)
    assert [(n["name"], n["description"], n["type_name"]) for n in nodes] == [
        (n["name"], n["description"], n["type_name"]) for n in example
    ]
    point = nodes[0]["points"][0]
    assert point["node_id"] == drone["id"] == nodes[0]["id"]
    assert (point["name"], point["point_type_id"], point["point_type_name"]) == ("aa", 2, "livestream_flv")
    # The play URL of the platform's ingest (docs/gosd.md, Live points); not live yet.
    play = f"http://testserver{gosd.base}/live/{play_name(gosd.runtime.settings, point['id'])}.flv"
    assert (point["type"], point["params"], point["live"]) == ("livestream_flv", {"url": play}, False)
    assert nodes[1]["points"] == []


async def test_upload_blobs(gosd: Gosd) -> None:
    files = {"c1": ("go.mod", b"module example\n"), "c2": ("go.sum", b"golang.org/x 1.0\n")}
    answer = await gosd.ok("POST", "/api/v2/blobs/", files=files)
    assert set(answer) == {"c1", "c2"}
    assert all(isinstance(v, str) and v.isdigit() for v in answer.values())
    assert answer["c1"] != answer["c2"]
    r = await gosd.request("GET", f"/api/v2/blobs/{answer['c2']}")
    assert r.content == b"golang.org/x 1.0\n"


async def test_replace_a_blob(gosd: Gosd) -> None:
    blob_id = await gosd.blob("c", b"old", "old.txt")
    answer = await gosd.ok("PUT", f"/api/v2/blobs/{blob_id}", files={"c": ("go.mod", b"module example\n")})
    assert answer == {"id": int(blob_id), "filename": "go.mod"}
    # With several files, one of them is taken.
    files = {"c": ("go.mod", b"module a\n"), "d": ("go.sum", b"sum\n")}
    answer = await gosd.ok("PUT", f"/api/v2/blobs/{blob_id}", files=files)
    assert answer["id"] == int(blob_id) and answer["filename"] in ("go.mod", "go.sum")
    content = (await gosd.request("GET", f"/api/v2/blobs/{blob_id}")).content
    assert content == {"go.mod": b"module a\n", "go.sum": b"sum\n"}[answer["filename"]]


async def test_delete_a_blob(gosd: Gosd) -> None:
    blob_id = await gosd.blob()
    assert await gosd.ok("DELETE", f"/api/v2/blobs/{blob_id}") == {"id": int(blob_id), "filename": "a.lua"}
    assert (await gosd.request("GET", f"/api/v2/blobs/{blob_id}")).status_code == 404


async def test_plans_create_list_replace_delete(gosd: Gosd) -> None:
    node = await gosd.node()
    blob_id = await gosd.blob()
    headers = {"content-type": "application/json"}
    created = await gosd.ok("POST", "/api/v2/plans/", 201, content=PLAN % (node["id"], blob_id), headers=headers)
    example = json.loads(PLAN_ANSWER)
    same_shape(created, example)
    assert {k: v for k, v in created.items() if k != "id"} == {
        **{k: v for k, v in example.items() if k != "id"},
        "node_id": node["id"],
        "files": {"file": blob_id},
    }
    bare = {"name": "233", "description": "", "node_id": node["id"], "files": {"file": blob_id}}
    second = await gosd.ok("POST", "/api/v2/plans/", 201, json=bare)
    listed = await gosd.ok("GET", "/api/v2/plans/")
    assert [p["id"] for p in listed] == [created["id"], second["id"]]
    assert listed[1]["extra"] == {}  # the spec's `{null}` is not JSON: no extra is an empty object
    assert listed[0] == created

    changed = PLAN.replace('"test"', '"changed"') % (node["id"], blob_id)
    replaced = await gosd.ok("PUT", f"/api/v2/plans/{second['id']}", content=changed, headers=headers)
    same_shape(replaced, example)
    assert replaced["id"] == second["id"] and replaced["description"] == "changed"
    assert replaced["extra"] == example["extra"]
    assert await gosd.ok("GET", f"/api/v2/plans/{second['id']}") == replaced

    deleted = await gosd.ok("DELETE", f"/api/v2/plans/{second['id']}")
    assert deleted == replaced
    assert [p["id"] for p in await gosd.ok("GET", "/api/v2/plans/")] == [created["id"]]


JOB_ANSWER = """{
"id":4,
"job_id":3,
"plan_id":1,
"files":{},
"extra":{},
"created_at":"2021-03-20T09:02:20.386117Z",
"updated_at":"2021-03-20T09:02:20.386117Z"
}"""
# mediaplane's job state beside the spec's fields (docs/gosd.md, "Jobs").
JOB_EXTRAS = frozenset({"node_id", "state", "error", "started_at", "finished_at"})


async def test_jobs_run_list_and_every_cancel(gosd: Gosd) -> None:
    node = await gosd.node()
    plan = await gosd.ok("POST", "/api/v2/plans/", 201, json={"name": "p", "node_id": node["id"]})
    plan_id = plan["id"]
    example = json.loads(JOB_ANSWER)
    # `curl -X POST localhost:8000/gosd/api/v2/plans/1/jobs/ -H "Authorization: Bearer …"`: no body at all.
    first = await gosd.ok("POST", f"/api/v2/plans/{plan_id}/jobs/", 201)
    same_shape(first, example, JOB_EXTRAS)
    assert first["job_id"] == 1 and first["plan_id"] == plan_id and first["state"] == "queued"
    assert first["created_at"].endswith("Z")
    second = await gosd.ok("POST", f"/api/v2/plans/{plan_id}/jobs/", 201, json={"extra": {"k": "v"}})
    assert second["job_id"] == 2 and second["extra"] == {"k": "v"}
    listed = await gosd.ok("GET", f"/api/v2/plans/{plan_id}/jobs/")
    assert [j["job_id"] for j in listed] == [1, 2] and all(j["plan_id"] == plan_id for j in listed)
    same_shape(listed[0], example, JOB_EXTRAS)

    # Every cancel gosd has known answers [] and records the state.
    assert await gosd.ok("POST", f"/api/v2/plans/{plan_id}/jobs/1/cancel") == []
    assert (await gosd.ok("GET", f"/api/v2/plans/{plan_id}/jobs/1"))["state"] == "cancelled"
    assert await gosd.ok("POST", f"/api/v2/plans/{plan_id}/jobs/cancel") == []
    assert (await gosd.ok("GET", f"/api/v2/plans/{plan_id}/jobs/2"))["state"] == "cancelled"
    await gosd.ok("POST", f"/api/v2/plans/{plan_id}/running", 201)
    assert await gosd.ok("DELETE", f"/api/v2/plans/{plan_id}/jobs/running") == []
    await gosd.ok("POST", f"/api/v2/plans/{plan_id}/jobs/", 201)
    assert await gosd.ok("DELETE", f"/api/v2/plans/{plan_id}/running") == []
    states = [j["state"] for j in await gosd.ok("GET", f"/api/v2/plans/{plan_id}/jobs/")]
    assert states == ["cancelled"] * 4
    assert await gosd.ok("POST", f"/api/v2/plans/{plan_id}/jobs/1/cancel") == []  # again: still []
    assert await gosd.ok("GET", f"/api/v2/plans/{plan_id}/running") == {}


async def test_jobs_of_unknown_plans_and_jobs(gosd: Gosd) -> None:
    for method, path in [
        ("POST", "/api/v2/plans/999/jobs/"),
        ("GET", "/api/v2/plans/999/jobs/"),
        ("POST", "/api/v2/plans/999/jobs/cancel"),
        ("DELETE", "/api/v2/plans/999/running"),
    ]:
        assert (await gosd.ok(method, path, 404))["error_message"].startswith("No plan")
    node = await gosd.node()
    plan = await gosd.ok("POST", "/api/v2/plans/", 201, json={"name": "p", "node_id": node["id"]})
    missing = await gosd.ok("POST", f"/api/v2/plans/{plan['id']}/jobs/7/cancel", 404)
    assert missing["error_message"] == f"No job 7 of plan {plan['id']}"
    no_log = await gosd.ok("POST", f"/api/v2/plans/{plan['id']}/jobs/", 201)
    assert (await gosd.ok("GET", f"/api/v2/plans/{plan['id']}/jobs/{no_log['job_id']}/log", 404))["error_message"]
    bad = await gosd.ok("POST", f"/api/v2/plans/{plan['id']}/jobs/", 404, json={"files": {"input": "424242"}})
    assert bad["error_message"] == "No blob 424242"
