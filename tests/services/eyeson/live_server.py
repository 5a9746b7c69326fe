"""`serve` with eyeson on a free port (its background and job workers running), an eyeson instance on it, and
what tests use to call it."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from mediaplane.app import create_app
from mediaplane.core.catalog import Registry
from mediaplane.services.eyeson import spec as eyeson_spec
from tests.conftest import make_settings
from tests.fixtures.factories import admin_pat
from tests.fixtures.servers import free_port, serve_in_thread

API_KEY = "bGl2ZS1leWVzb24ta2V5LWZvci10ZXN0cy0wMTIzNA"


@dataclass
class LiveEyeson:
    api: str  # the platform
    base: str  # the instance URL: eyeson's API base
    key: str
    sat: str

    def call(self, method: str, path: str, status: int = 200, *, key: bool = False, **kwargs: Any) -> Any:
        headers = dict(kwargs.pop("headers", {}) or {})
        if key:
            headers["Authorization"] = self.key
        r = httpx.request(method, f"{self.base}{path.lstrip('/')}", headers=headers, timeout=30, **kwargs)
        assert r.status_code == status, r.text
        return r.json() if r.content else None

    def room(self, user: str = "Jane Doe", **fields: str) -> Any:
        return self.call("POST", "/rooms", 201, key=True, data={"user[name]": user, **fields})

    def online(self, room_id: str) -> set[str]:
        """The names of the users whose media is connected."""
        return {u["name"] for u in self.call("GET", f"rooms/{room_id}/users", key=True, params={"online": "true"})}

    def ws_url(self, link: str) -> str:
        return link.replace("http://", "ws://", 1)


@contextlib.contextmanager
def live_eyeson(tmp_path: Path, **overrides: Any) -> Iterator[LiveEyeson]:
    port = free_port()
    values: dict[str, Any] = {
        "port": port,
        "workers": 1,
        "run_workers": True,
        "job_retry_delay": 0.2,
        "eyeson_width": 320,
        "eyeson_height": 240,
        "eyeson_fps": 10,
        "eyeson_ice_host": "127.0.0.1",
    }
    values.update(overrides)
    settings = make_settings(tmp_path / "data", f"sqlite+aiosqlite:///{tmp_path / 'eyeson.db'}", **values)
    registry = Registry([eyeson_spec])
    pat = admin_pat(settings, registry)
    with serve_in_thread(create_app(settings, registry=registry), port) as api:
        sat = httpx.post(f"{api}/servicetoken", headers={"x-pat-jwt": f"Bearer {pat}"}, json={"serviceId": "eyeson"})
        token = sat.json()["token"]
        body = {"name": "team", "apiKey": API_KEY, "teamName": "Live Team"}
        created = httpx.post(f"{api}/eyesoninstance", headers={"x-jwt": f"Bearer {token}"}, json=body)
        assert created.status_code == 200, created.text
        yield LiveEyeson(api, f"{api}/eyeson/admin-team/", API_KEY, token)
