"""Nodes and points (additions to the spec): create, read, replace, delete, node secrets, isolation."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from mediaplane.kit.security import sha256_hex
from mediaplane.services.gosd.models import GosdBlob, GosdNode, GosdPlan, GosdPoint
from mediaplane.services.gosd.points import POINT_TYPES
from tests.fixtures.factories import Factory
from tests.services.gosd.conftest import OPTIONS, Gosd, error_of, make_gosd

FLV = {"name": "http://cdn.example/live/drone.flv", "type": "livestream_flv", "params": {"url": "x.flv"}}


class TestCreate:
    async def test_with_points_by_type_name_or_id(self, gosd: Gosd) -> None:
        points = [FLV, {"name": "status", "point_type_id": 11}, {"name": "map", "point_type_name": "map"}]
        node = await gosd.node("Drone", points=points)
        assert [(p["type"], p["point_type_id"]) for p in node["points"]] == [
            ("livestream_flv", 2),
            ("drone_status", 11),
            ("map", 13),
        ]
        assert node["points"][0]["params"] == {"url": "x.flv"} and node["points"][1]["params"] == {}
        assert all(p["node_id"] == node["id"] for p in node["points"])
        assert node["secret_set_at"] is None
        assert await gosd.ok("GET", f"/api/v1/nodes/{node['id']}") == node

    async def test_bad_input(self, gosd: Gosd) -> None:
        cases: list[Any] = [
            {"description": "no name", "type_name": "air"},
            {"name": "x"},
            {"name": "x", "type_name": "Air Craft"},
            {"name": 5, "type_name": "air"},
            {"name": "x", "type_name": "air", "points": {"a": 1}},
            {"name": "x", "type_name": "air", "points": [{"name": "p"}]},
            {"name": "x", "type_name": "air", "points": [{"type": "hologram"}]},
            {"name": "x", "type_name": "air", "points": [{"point_type_id": 999}]},
            {"name": "x", "type_name": "air", "points": [{"type": "map", "point_type_id": 2}]},
            {"name": "x", "type_name": "air", "points": [{"type": "map", "params": [1]}]},
            {"name": "x", "type_name": "air", "points": [{"type": "map", "id": 3}]},
            {"name": "x\u0000", "type_name": "air"},
            [1, 2],
        ]
        for body in cases:
            assert error_of(await gosd.request("POST", "/api/v1/nodes/", json=body))[0] == 400, body
        assert await gosd.ok("GET", "/api/v1/nodes/") == []

    async def test_every_point_type_is_known(self) -> None:
        assert POINT_TYPES[2] == "livestream_flv" and len(set(POINT_TYPES.values())) == len(POINT_TYPES)


class TestReplace:
    async def test_points_keep_their_ids_or_go(self, gosd: Gosd) -> None:
        node = await gosd.node("Drone", points=[FLV, {"name": "b", "type": "battery"}])
        flv, battery = node["points"]
        body = {
            "name": "Drone 2",
            "description": "renamed",
            "type_name": "air",
            "points": [
                {"id": flv["id"], "name": "renamed", "type": "livestream_hls"},
                {"name": "w", "type": "weather"},
            ],
        }
        replaced = await gosd.ok("PUT", f"/api/v1/nodes/{node['id']}", json=body)
        assert (replaced["name"], replaced["description"]) == ("Drone 2", "renamed")
        assert [(p["id"] == flv["id"], p["name"], p["type"]) for p in replaced["points"]] == [
            (True, "renamed", "livestream_hls"),
            (False, "w", "weather"),
        ]
        assert battery["id"] not in [p["id"] for p in replaced["points"]]
        # Without `points`, the points stay.
        kept = await gosd.ok("PUT", f"/api/v1/nodes/{node['id']}", json={"name": "D", "type_name": "air"})
        assert kept["points"] == replaced["points"]

    async def test_a_point_of_another_node_is_refused(self, gosd: Gosd) -> None:
        one = await gosd.node("One", points=[FLV])
        two = await gosd.node("Two")
        body = {"name": "Two", "type_name": "air", "points": [{"id": one["points"][0]["id"], "type": "map"}]}
        assert error_of(await gosd.request("PUT", f"/api/v1/nodes/{two['id']}", json=body))[0] == 400

    async def test_unknown_node(self, gosd: Gosd) -> None:
        body = {"name": "x", "type_name": "air"}
        assert error_of(await gosd.request("PUT", "/api/v1/nodes/99", json=body))[0] == 404


class TestDelete:
    async def test_deletes_node_and_points(self, gosd: Gosd) -> None:
        node = await gosd.node("Drone", points=[FLV])
        assert (await gosd.ok("DELETE", f"/api/v1/nodes/{node['id']}"))["id"] == node["id"]
        assert error_of(await gosd.request("GET", f"/api/v1/nodes/{node['id']}")) == (404, f"No node {node['id']}")
        async with gosd.runtime.db.session() as session:
            assert (await session.execute(select(func.count()).select_from(GosdPoint))).scalar_one() == 0

    async def test_refused_while_a_plan_uses_it(self, gosd: Gosd) -> None:
        node = await gosd.node()
        plan = await gosd.ok("POST", "/api/v2/plans/", 201, json={"name": "p", "node_id": node["id"]})
        r = await gosd.request("DELETE", f"/api/v1/nodes/{node['id']}")
        assert error_of(r)[0] == 409 and f"plans {plan['id']}" in r.json()["error_message"]
        await gosd.ok("DELETE", f"/api/v2/plans/{plan['id']}")
        await gosd.ok("DELETE", f"/api/v1/nodes/{node['id']}")


class TestSecret:
    async def test_rotation_returns_the_secret_once_and_keeps_its_hash(self, gosd: Gosd) -> None:
        node = await gosd.node()
        first = await gosd.ok("POST", f"/api/v1/nodes/{node['id']}/secret")
        second = await gosd.ok("POST", f"/api/v1/nodes/{node['id']}/secret")
        assert set(first) == {"id", "secret", "created_at"} and first["id"] == node["id"]
        assert len(first["secret"]) == 32 and first["secret"] != second["secret"]
        shown = await gosd.ok("GET", f"/api/v1/nodes/{node['id']}")
        assert shown["secret_set_at"] is not None
        assert first["secret"] not in str(shown) and second["secret"] not in str(shown)
        async with gosd.runtime.db.session() as session:
            stored = (await session.execute(select(GosdNode.secret_hash))).scalar_one()
        assert stored == sha256_hex(second["secret"])

    async def test_unknown_node(self, gosd: Gosd) -> None:
        assert error_of(await gosd.request("POST", "/api/v1/nodes/42/secret"))[0] == 404


class TestIsolation:
    async def test_another_instance_sees_nothing(self, gosd: Gosd, factory: Factory) -> None:
        node = await gosd.node("Drone", points=[FLV])
        blob_id = await gosd.blob()
        plan = await gosd.ok("POST", "/api/v2/plans/", 201, json={"name": "p", "node_id": node["id"]})
        other = Gosd(gosd.client, gosd.runtime, gosd.sat, "other", {})
        other.instance = await factory.create_instance(gosd.sat, "gosd", "other", **OPTIONS)
        other.token = await other.login()
        assert await other.ok("GET", "/api/v1/nodes/") == []
        assert await other.ok("GET", "/api/v2/plans/") == []
        for method, path in [
            ("GET", f"/api/v1/nodes/{node['id']}"),
            ("DELETE", f"/api/v1/nodes/{node['id']}"),
            ("POST", f"/api/v1/nodes/{node['id']}/secret"),
            ("GET", f"/api/v2/blobs/{blob_id}"),
            ("DELETE", f"/api/v2/blobs/{blob_id}"),
            ("GET", f"/api/v2/plans/{plan['id']}"),
            ("DELETE", f"/api/v2/plans/{plan['id']}"),
        ]:
            assert error_of(await other.request(method, path))[0] == 404, (method, path)
        # Nor can its plans name this instance's node or blob.
        body = {"name": "p", "node_id": node["id"]}
        assert error_of(await other.request("POST", "/api/v2/plans/", json=body))[0] == 404
        mine = await other.node()
        body = {"name": "p", "node_id": mine["id"], "files": {"lua": blob_id}}
        assert error_of(await other.request("POST", "/api/v2/plans/", json=body))[0] == 404


async def test_deleting_the_instance_removes_everything(
    factory: Factory, client: httpx.AsyncClient, runtime: Any
) -> None:
    made = await make_gosd(factory, client, runtime, **OPTIONS)
    made.token = await made.login()
    node = await made.node(points=[FLV])
    blob_id = await made.blob()
    await made.ok("POST", "/api/v2/plans/", 201, json={"name": "p", "node_id": node["id"], "files": {"lua": blob_id}})
    r = await client.delete("/gosdinstance/fleet", headers={"x-jwt": f"Bearer {made.sat}"})
    assert r.status_code == 204, r.text
    async with runtime.db.session() as session:
        for model in (GosdNode, GosdPoint, GosdBlob, GosdPlan):
            assert (await session.execute(select(func.count()).select_from(model))).scalar_one() == 0, model
