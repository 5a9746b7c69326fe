"""A gosd instance of tenant `acme` on the real app, reached through the platform like any client does."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mediaplane.core.catalog import Registry
from mediaplane.core.runtime import Runtime
from mediaplane.services.gosd import spec as gosd_spec
from tests.fixtures.factories import Factory

USERNAME = "pilot"
PASSWORD = "Hop0nTh4tM4ng0Tree"
CLIENT_ID = "000000"
CLIENT_SECRET = "999999-client-secret"
OPTIONS = {"username": USERNAME, "password": PASSWORD, "clientId": CLIENT_ID, "clientSecret": CLIENT_SECRET}


@pytest.fixture
def registry() -> Registry:
    return Registry([gosd_spec])


def grant(**changes: str) -> dict[str, str]:
    fields = {
        "grant_type": "password",
        "username": USERNAME,
        "password": PASSWORD,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    fields.update(changes)
    return fields


def multipart(fields: dict[str, str]) -> dict[str, tuple[None, str]]:
    """What `curl -F name=value` sends: one form-data part per field, no file."""
    return {name: (None, value) for name, value in fields.items()}


@dataclass
class Gosd:
    client: httpx.AsyncClient
    runtime: Runtime
    sat: str
    name: str
    instance: dict[str, Any]
    token: str = ""

    @property
    def base(self) -> str:
        """The spec's BASE_URL: the instance URL plus `/gosd`."""
        return f"/gosd/acme-{self.name}/gosd"

    async def request(self, method: str, path: str, *, token: str | None = None, **kwargs: Any) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        chosen = self.token if token is None else token
        if chosen:
            headers["Authorization"] = f"Bearer {chosen}"
        return await self.client.request(method, f"{self.base}{path}", headers=headers, **kwargs)

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        r = await self.request(method, path, **kwargs)
        assert r.status_code == status, r.text
        assert r.headers["content-type"].startswith("application/json")
        return r.json()

    async def login(self, **changes: str) -> str:
        r = await self.client.post(f"{self.base}/oauth/token", files=multipart(grant(**changes)))
        assert r.status_code == 200, r.text
        token: str = r.json()["access_token"]
        return token

    async def node(self, name: str = "Drone", type_name: str = "air", points: list[Any] | None = None) -> Any:
        body = {"name": name, "description": f"A Test {name}", "type_name": type_name, "points": points or []}
        return await self.ok("POST", "/api/v1/nodes/", 201, json=body)

    async def blob(self, field: str = "file", content: bytes = b"print('hi')\n", filename: str = "a.lua") -> str:
        answer = await self.ok("POST", "/api/v2/blobs/", files={field: (filename, content)})
        blob_id: str = answer[field]
        return blob_id


def error_of(r: httpx.Response) -> tuple[int, str]:
    """(status, error_message) after checking gosd's error body."""
    assert r.headers["content-type"].startswith("application/json"), r.headers
    body = r.json()
    assert isinstance(body, dict) and isinstance(body.get("error_message"), str) and body["error_message"], body
    assert set(body) <= {"error_message", "error"}, body
    return r.status_code, body["error_message"]


async def make_gosd(factory: Factory, client: httpx.AsyncClient, runtime: Runtime, **options: Any) -> Gosd:
    tenant = await factory.create_tenant(options.pop("tenant", "acme"))
    sat = await factory.sat(tenant.pat, "gosd")
    name = options.pop("name", "fleet")
    instance = await factory.create_instance(sat, "gosd", name, **options)
    return Gosd(client, runtime, sat, name, instance)


@pytest.fixture
async def gosd(factory: Factory, client: httpx.AsyncClient, runtime: Runtime) -> Gosd:
    made = await make_gosd(factory, client, runtime, **OPTIONS)
    made.token = await made.login()
    return made
