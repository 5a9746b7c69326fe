"""`serve` with rig and its RTMP ingest (real nginx-rtmp) on free ports, and a rig user signed in on it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mediaplane.app import create_app
from mediaplane.config import Settings
from mediaplane.core.catalog import Registry
from mediaplane.core.ingest.nginx import NginxNotFound, find_nginx
from mediaplane.services.rig import spec as rig_spec
from tests.conftest import make_settings
from tests.fixtures.factories import admin_pat
from tests.fixtures.required import require_or_skip
from tests.fixtures.servers import free_port, serve_in_thread

PASSWORD = "Hop0nTh4tM4ng0Tree"


@dataclass
class LiveRig:
    api: str
    rtmp_port: int
    rig: str  # the instance's base URL
    token: str
    sat: str

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        r = httpx.request(method, f"{self.rig}{path}", headers=headers, timeout=30, **kwargs)
        assert r.status_code == 200, r.text
        return r.json()["payload"]

    def publish_url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/rig/{key}"


def rig_settings(tmp_path: Path, port: int, rtmp_port: int) -> Settings:
    """`serve` with rig's RTMP ingest (nginx; skipped, or failed with CI=true, without it) and two job workers."""
    settings = make_settings(
        tmp_path / "data",
        f"sqlite+aiosqlite:///{tmp_path / 'rig.db'}",
        port=port,
        rtmp_enabled=True,
        rtmp_port=rtmp_port,
        rtmp_heartbeat_seconds=1,
        ingest_node="node-a",
        workers=2,
        run_workers=True,
    )
    try:
        find_nginx(settings.nginx_path, settings.nginx_modules_dir)
    except NginxNotFound as exc:
        require_or_skip("nginx with the RTMP module", exc)
    return settings


@contextlib.contextmanager
def live_rig(tmp_path: Path, **options: str) -> Iterator[LiveRig]:
    port, rtmp_port = free_port(), free_port()
    settings = rig_settings(tmp_path, port, rtmp_port)
    registry = Registry([rig_spec])
    pat = admin_pat(settings, registry)
    with serve_in_thread(create_app(settings, registry=registry), port) as api:
        sat = httpx.post(f"{api}/servicetoken", headers={"x-pat-jwt": f"Bearer {pat}"}, json={"serviceId": "rig"})
        token = sat.json()["token"]
        body = {"name": "tv", **options}
        created = httpx.post(f"{api}/riginstance", headers={"x-jwt": f"Bearer {token}"}, json=body)
        assert created.status_code == 200, created.text
        rig = f"{api}/rig/admin-tv"
        account = {"username": "alice", "password": PASSWORD, "email": "alice@example.com"}
        assert httpx.post(f"{rig}/accounts/", json=account).status_code == 200
        login = httpx.post(f"{rig}/accounts/auth/local", json={"username": "alice", "password": PASSWORD})
        yield LiveRig(api, rtmp_port, rig, login.json()["payload"]["token"], token)
