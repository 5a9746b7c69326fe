"""An eyeson instance of tenant `acme` on the real app, reached through the platform like any client does;
small, slow pictures so that every room's media stays cheap."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiortc import RTCSessionDescription

from mediaplane.config import Settings
from mediaplane.core.catalog import Registry
from mediaplane.core.runtime import Runtime
from mediaplane.services.eyeson import spec as eyeson_spec
from mediaplane.services.eyeson.media import media_rooms
from tests.conftest import make_settings
from tests.fixtures.factories import Factory
from tests.fixtures.webrtc import Peer

API_KEY = "ZWY3ZjY2NjItMTQ3Ni00YWQ1LWE1ZTAtYjI3ZTRlM2Y"


@pytest.fixture
def registry() -> Registry:
    return Registry([eyeson_spec])


def eyeson_settings(tmp_path: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "eyeson_width": 320,
        "eyeson_height": 240,
        "eyeson_fps": 5,
        "eyeson_ice_host": "127.0.0.1",
    }
    return make_settings(tmp_path / "data", database_url, **(values | overrides))


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return eyeson_settings(tmp_path, database_url)


@dataclass
class Eyeson:
    client: httpx.AsyncClient
    runtime: Runtime
    sat: str
    name: str
    instance: dict[str, Any]
    key: str = API_KEY

    @property
    def base(self) -> str:
        """The API base URL clients are given: the instance URL."""
        return f"/eyeson/acme-{self.name}"

    async def request(self, method: str, path: str, *, key: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if key:
            headers["Authorization"] = key
        return await self.client.request(method, f"{self.base}{path}", headers=headers, **kwargs)

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        r = await self.request(method, path, **kwargs)
        assert r.status_code == status, r.text
        if r.content:
            assert r.headers["content-type"].startswith("application/json")
            return r.json()
        return None

    async def room(self, user: str = "Jane Doe", **fields: str) -> Any:
        """POST /rooms form-encoded as the spec's curl examples."""
        return await self.ok("POST", "/rooms", 201, key=self.key, data={"user[name]": user, **fields})


def error_of(r: httpx.Response) -> tuple[int, str]:
    """(status, error) after checking eyeson's error body."""
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], str), body
    return r.status_code, body["error"]


async def make_eyeson(factory: Factory, client: httpx.AsyncClient, runtime: Runtime, **options: Any) -> Eyeson:
    tenant = await factory.create_tenant(options.pop("tenant", "acme"))
    sat = await factory.sat(tenant.pat, "eyeson")
    name = options.pop("name", "team")
    instance = await factory.create_instance(sat, "eyeson", name, **options)
    return Eyeson(client, runtime, sat, name, instance, key=str(options.get("apiKey", API_KEY)))


@pytest.fixture
async def eyeson(factory: Factory, client: httpx.AsyncClient, runtime: Runtime) -> AsyncIterator[Eyeson]:
    made = await make_eyeson(factory, client, runtime, apiKey=API_KEY, teamName="My Company Ltd.")
    try:
        yield made
    finally:
        await media_rooms(runtime).close()


@pytest.fixture
async def peers() -> AsyncIterator[list[Peer]]:
    made: list[Peer] = []
    try:
        yield made
    finally:
        for peer in made:
            await peer.close()


async def connect(eyeson: Eyeson, peer: Peer, access_key: str) -> Peer:
    """The peer's media into the meeting, as the GUI does it: its offer POSTed, the answer applied."""
    answer = await eyeson.ok(
        "POST", f"/rooms/{access_key}/webrtc", 201, json={"type": "offer", "sdp": await peer.offer()}
    )
    assert answer["type"] == "answer"
    await peer.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
    return peer


async def online(eyeson: Eyeson, room_id: str, expected: set[str], within: float = 20) -> None:
    for _ in range(int(within / 0.1)):
        users = await eyeson.ok("GET", f"/rooms/{room_id}/users?online=true", key=eyeson.key)
        if {u["id"] for u in users} == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"online: {[u['id'] for u in users]}, expected {sorted(expected)}")
