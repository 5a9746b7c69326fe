"""`GET /api/v2/agent`: the node agent's bootstrap, signed in with the node id and secret (HTTP Basic)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from mediaplane.config import Settings
from tests.conftest import make_settings
from tests.fixtures.factories import Factory
from tests.services.gosd.conftest import OPTIONS, Gosd, error_of, make_gosd

PATH = "/api/v2/agent"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path / "data",
        database_url,
        mqtt_url="mqtt://cloud:pw@broker.example:1883",
        mqtt_topic_prefix="fleet1/",
        rtmp_public_url="rtmp://live.example:1935",
    )


async def node_with_secret(gosd: Gosd, points: list[dict[str, str]] | None = None) -> tuple[dict[str, object], str]:
    node = await gosd.node(points=points)
    secret: str = (await gosd.ok("POST", f"/api/v1/nodes/{node['id']}/secret"))["secret"]
    return node, secret


async def ask(gosd: Gosd, auth: tuple[str, str] | None) -> httpx.Response:
    return await gosd.client.get(f"{gosd.base}{PATH}", auth=auth)


class TestBootstrap:
    async def test_answers_the_node_the_broker_and_the_points(self, gosd: Gosd) -> None:
        points = [
            {"name": "front", "type": "livestream_flv"},
            {"name": "hls", "type": "livestream_hls"},
            {"name": "snap", "type": "livestream_img"},
            {"name": "rtc", "type": "livestream_webrtc"},
            {"name": "map", "type": "map"},
        ]
        node, secret = await node_with_secret(gosd, points)
        r = await ask(gosd, (str(node["id"]), secret))
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        body = r.json()
        assert body["node"] == {"id": node["id"], "name": "Drone", "type_name": "air"}
        # The broker's own credentials (the platform's) never reach a node.
        assert body["mqtt"] == {
            "url": "mqtt://broker.example:1883",
            "username": str(node["id"]),
            "topic_prefix": "fleet1/",
        }
        by_name = {p["name"]: p for p in body["points"]}
        assert [p["name"] for p in body["points"]] == ["front", "hls", "snap", "rtc", "map"]
        for name in ("front", "hls"):
            point_id = by_name[name]["id"]
            assert by_name[name]["publish_url"] == f"rtmp://live.example:1935/gosd/{point_id}?secret={secret}"
        for name in ("snap", "rtc", "map"):
            assert "publish_url" not in by_name[name]
        assert by_name["map"]["type"] == "map"

    async def test_no_broker_configured_answers_null(self, gosd: Gosd, settings: Settings) -> None:
        settings.mqtt_url = None
        settings.mqtt_enabled = False
        node, secret = await node_with_secret(gosd)
        r = await ask(gosd, (str(node["id"]), secret))
        assert r.status_code == 200 and r.json()["mqtt"] is None and r.json()["points"] == []


class TestRefused:
    async def test_wrong_or_old_secret_unknown_node_node_without_secret(self, gosd: Gosd) -> None:
        node, secret = await node_with_secret(gosd)
        node_id = str(node["id"])
        r = await ask(gosd, (node_id, secret[:-1] + ("x" if secret[-1] != "x" else "y")))
        assert error_of(r) == (401, "Access Unauthorized")
        assert r.headers["www-authenticate"].startswith("Basic")
        assert error_of(await ask(gosd, ("9999", secret))) == (401, "Access Unauthorized")
        bare = await gosd.node(name="Depot", type_name="depot")
        assert error_of(await ask(gosd, (str(bare["id"]), "anything")))[0] == 401
        await gosd.ok("POST", f"/api/v1/nodes/{node_id}/secret")
        assert error_of(await ask(gosd, (node_id, secret)))[0] == 401

    async def test_missing_or_malformed_credentials(self, gosd: Gosd) -> None:
        # None; another scheme; not base64; no colon ("abc"); a user that is not a node id ("x:secret")
        for header in (None, "Bearer abc", "Basic !!!", "Basic YWJj", "Basic eDpzZWNyZXQ="):
            headers = {"Authorization": header} if header else {}
            r = await gosd.client.get(f"{gosd.base}{PATH}", headers=headers)
            assert error_of(r) == (401, "Access Unauthorized"), header

    async def test_a_user_token_is_not_a_node(self, gosd: Gosd) -> None:
        assert error_of(await gosd.request("GET", PATH))[0] == 401

    async def test_a_node_of_another_instance(self, gosd: Gosd, factory: Factory) -> None:
        node, secret = await node_with_secret(gosd)
        await make_gosd(factory, gosd.client, gosd.runtime, tenant="other", **OPTIONS)
        r = await gosd.client.get(f"/gosd/other-fleet/gosd{PATH}", auth=(str(node["id"]), secret))
        assert error_of(r)[0] == 401
