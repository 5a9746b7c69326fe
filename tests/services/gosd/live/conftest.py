"""`serve` with gosd and its RTMP ingest (nginx-rtmp for the HLS previews) on free ports, a gosd user signed in,
and helpers to make nodes with live points and read what viewers get."""

from __future__ import annotations

import contextlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediaplane.app import create_app
from mediaplane.config import Settings
from mediaplane.core.catalog import Registry
from mediaplane.core.ingest.nginx import NginxNotFound, find_nginx
from mediaplane.services.gosd import spec as gosd_spec
from mediaplane.services.gosd.live import publish_url
from tests.conftest import make_settings
from tests.fixtures.factories import admin_pat
from tests.fixtures.required import require_or_skip
from tests.fixtures.servers import free_port, serve_in_thread
from tests.services.gosd.conftest import OPTIONS, grant, multipart


@dataclass
class LiveGosd:
    settings: Settings
    base: str  # the spec's BASE_URL: the instance URL + "gosd"
    token: str

    def call(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        r = httpx.request(method, f"{self.base}{path}", headers={"Authorization": f"Bearer {self.token}"}, **kwargs)
        assert r.status_code == status, r.text
        return r.json()

    def node_with(self, *points: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """A new node with these points, and its secret."""
        body = {"name": "Drone", "description": "", "type_name": "air", "points": list(points)}
        node = self.call("POST", "/api/v1/nodes/", 201, json=body)
        secret = self.call("POST", f"/api/v1/nodes/{node['id']}/secret")["secret"]
        return node, secret

    def points(self, node_id: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.call("GET", f"/api/v1/nodes/{node_id}")["points"]
        return found

    def point(self, node_id: int, point_id: int) -> dict[str, Any]:
        return next(p for p in self.points(node_id) if p["id"] == point_id)

    def publish_url(self, point_id: int, secret: str) -> str:
        return publish_url(self.settings, point_id, secret)


@contextlib.contextmanager
def live_gosd(tmp_path: Path, **overrides: Any) -> Iterator[LiveGosd]:
    port = free_port()
    settings = make_settings(
        tmp_path / "data",
        f"sqlite+aiosqlite:///{tmp_path / 'gosd.db'}",
        port=port,
        rtmp_enabled=True,
        rtmp_port=free_port(),
        rtmp_heartbeat_seconds=1,
        ingest_node="node-a",
        **overrides,
    )
    try:
        find_nginx(settings.nginx_path, settings.nginx_modules_dir)
    except NginxNotFound as exc:
        require_or_skip("nginx with the RTMP module", exc)
    registry = Registry([gosd_spec])
    pat = admin_pat(settings, registry)
    with serve_in_thread(create_app(settings, registry=registry), port) as api:
        sat = httpx.post(f"{api}/servicetoken", headers={"x-pat-jwt": f"Bearer {pat}"}, json={"serviceId": "gosd"})
        body = {"name": "fleet", **OPTIONS}
        created = httpx.post(f"{api}/gosdinstance", headers={"x-jwt": f"Bearer {sat.json()['token']}"}, json=body)
        assert created.status_code == 200, created.text
        base = f"{api}/gosd/admin-fleet/gosd"
        login = httpx.post(f"{base}/oauth/token", files=multipart(grant()))
        assert login.status_code == 200, login.text
        yield LiveGosd(settings, base, login.json()["access_token"])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveGosd]:
    """One server for a module's tests: each makes its own node and points."""
    with live_gosd(tmp_path_factory.mktemp("gosd-live")) as live:
        yield live


def flv_tags(data: bytes) -> list[tuple[int, int, bytes]]:
    """(type, timestamp, body) of each whole tag after a checked FLV header."""
    assert data[:3] == b"FLV" and data[3] == 1, data[:16]
    offset = struct.unpack(">I", data[5:9])[0]
    assert struct.unpack(">I", data[offset : offset + 4])[0] == 0
    offset += 4
    tags = []
    while offset + 11 <= len(data):
        kind = data[offset]
        size = int.from_bytes(data[offset + 1 : offset + 4], "big")
        stamp = int.from_bytes(data[offset + 4 : offset + 7], "big") | data[offset + 7] << 24
        end = offset + 11 + size
        if end + 4 > len(data):
            break
        assert int.from_bytes(data[end : end + 4], "big") == 11 + size
        tags.append((kind, stamp, data[offset + 11 : end]))
        offset = end + 4
    return tags
