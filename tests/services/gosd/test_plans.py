"""Plans: JSON and form bodies, unknown node or blob ids (404), bad input (400, never 500)."""

from __future__ import annotations

from typing import Any

from tests.services.gosd.conftest import Gosd, error_of


async def test_form_bodies(gosd: Gosd) -> None:
    node = await gosd.node()
    blob_id = await gosd.blob()
    fields = {
        "name": "survey",
        "description": "by form",
        "node_id": str(node["id"]),
        "files[waypoint]": blob_id,
        "extra[speed]": "5",
        "altitude": "120",  # any other text field goes into extra, as gosd's multipart path does
    }
    files = {"lua": ("main.lua", b"print(1)")}
    plan = await gosd.ok("POST", "/api/v2/plans/", 201, data=fields, files=files)
    assert plan["files"]["waypoint"] == blob_id and set(plan["files"]) == {"waypoint", "lua"}
    assert plan["extra"] == {"speed": "5", "altitude": "120"}
    assert (await gosd.request("GET", f"/api/v2/blobs/{plan['files']['lua']}")).content == b"print(1)"
    # JSON text in the `files` and `extra` fields, URL-encoded.
    encoded = {"name": "n", "node_id": str(node["id"]), "files": f'{{"lua": "{blob_id}"}}', "extra": '{"a": "b"}'}
    replaced = await gosd.ok("PUT", f"/api/v2/plans/{plan['id']}", data=encoded)
    assert (replaced["files"], replaced["extra"]) == ({"lua": blob_id}, {"a": "b"})


async def test_ids_as_numbers_and_nulls(gosd: Gosd) -> None:
    node = await gosd.node()
    blob_id = await gosd.blob()
    body = {"name": "p", "node_id": str(node["id"]), "files": {"lua": int(blob_id)}, "extra": None, "description": None}
    plan = await gosd.ok("POST", "/api/v2/plans/", 201, json=body)
    assert (plan["node_id"], plan["files"], plan["extra"], plan["description"]) == (
        node["id"],
        {"lua": blob_id},
        {},
        "",
    )


async def test_unknown_node_or_blob_is_404(gosd: Gosd) -> None:
    node = await gosd.node()
    blob_id = await gosd.blob()
    r = await gosd.request("POST", "/api/v2/plans/", json={"name": "p", "node_id": 999})
    assert error_of(r) == (404, "No node 999")
    body = {"name": "p", "node_id": node["id"], "files": {"lua": blob_id, "waypoint": "998", "x": "997"}}
    assert error_of(await gosd.request("POST", "/api/v2/plans/", json=body)) == (404, "No blob 997, 998")
    plan = await gosd.ok("POST", "/api/v2/plans/", 201, json={"name": "p", "node_id": node["id"]})
    r = await gosd.request("PUT", f"/api/v2/plans/{plan['id']}", json={**body, "files": {"lua": "5000"}})
    assert error_of(r)[0] == 404
    assert await gosd.ok("GET", f"/api/v2/plans/{plan['id']}") == plan  # nothing changed
    for method in ("GET", "DELETE"):
        assert error_of(await gosd.request(method, "/api/v2/plans/12345")) == (404, "No plan 12345")
    r = await gosd.request("PUT", "/api/v2/plans/12345", json={"name": "p", "node_id": node["id"]})
    assert error_of(r)[0] == 404


async def test_bad_input_is_400(gosd: Gosd) -> None:
    node = await gosd.node()
    good: dict[str, Any] = {"name": "p", "node_id": node["id"]}
    cases: list[dict[str, Any]] = [
        {"json": {"node_id": node["id"]}},
        {"json": {"name": "p"}},
        {"json": {**good, "node_id": "one"}},
        {"json": {**good, "node_id": -1}},
        {"json": {**good, "node_id": True}},
        {"json": {**good, "node_id": 2**70}},
        {"json": {**good, "name": ["p"]}},
        {"json": {**good, "files": ["1"]}},
        {"json": {**good, "files": {"lua": "abc"}}},
        {"json": {**good, "files": {"": "1"}}},
        {"json": {**good, "extra": {"a": 1}}},
        {"json": {**good, "extra": "not json"}},
        {"json": {**good, "extra": {"a": {"b": "c"}}}},
        {"json": [good]},
        {"json": "plan"},
        {"content": b'{"name": "p", "node_id": ', "headers": {"content-type": "application/json"}},
        {"content": b"\xff\xfe", "headers": {"content-type": "application/json"}},
        {"content": b"[" * 100000, "headers": {"content-type": "application/json"}},
        {"content": b"name=p", "headers": {"content-type": "application/xml"}},
        {"data": {"name": "p", "node_id": "x"}},
        {"data": {"name": "p", "node_id": str(node["id"]), "files[lua]": "x"}},
    ]
    for kwargs in cases:
        status, _ = error_of(await gosd.request("POST", "/api/v2/plans/", **kwargs))
        assert status in (400, 415), kwargs
    assert await gosd.ok("GET", "/api/v2/plans/") == []
    assert error_of(await gosd.request("GET", "/api/v2/plans/abc"))[0] == 400
