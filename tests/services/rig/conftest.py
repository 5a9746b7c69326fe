"""A rig instance of tenant `acme` on the real app, reached through the platform like any client does."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from mediaplane.core.catalog import Registry
from mediaplane.core.runtime import Runtime
from mediaplane.services.rig import spec as rig_spec
from tests.fixtures.factories import Factory

PASSWORD = "Hop0nTh4tM4ng0Tree"


@pytest.fixture
def registry() -> Registry:
    return Registry([rig_spec])


@dataclass
class Rig:
    client: httpx.AsyncClient
    runtime: Runtime
    sat: str
    name: str
    instance: dict[str, Any]

    @property
    def base(self) -> str:
        return f"/rig/acme-{self.name}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        content_type: str | None = "application/json",
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Writes carry `content_type` (rig's clients send application/json even without a body); None: no header."""
        sent: dict[str, str] = {}
        if method in ("POST", "PUT", "PATCH") and content_type is not None:
            sent["Content-Type"] = content_type
        if token is not None:
            sent["Authorization"] = f"Bearer {token}"
        sent.update(headers or {})
        if "json" in kwargs:  # sent as the exact bytes, so Content-Type stays the one chosen here
            kwargs["content"] = json.dumps(kwargs.pop("json")).encode()
        return await self.client.request(method, f"{self.base}{path}", headers=sent, **kwargs)

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """The payload of a success, after checking rig's success envelope."""
        r = await self.request(method, path, **kwargs)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/json"
        body = r.json()
        assert set(body) == {"message", "payload"}, body
        return body["payload"]

    async def signup(self, username: str = "foobar", password: str = PASSWORD, email: str | None = None) -> str:
        """Creates an account and returns its token."""
        body = {"username": username, "password": password, "email": email or f"{username}@example.com"}
        await self.ok("POST", "/accounts/", json=body)
        payload = await self.ok("POST", "/accounts/auth/local", json={"username": username, "password": password})
        token: str = payload["token"]
        return token

    async def new_stream(self, token: str) -> dict[str, Any]:
        payload: dict[str, Any] = await self.ok("POST", "/streams/", token=token)
        return payload

    async def add(self, token: str, stream_id: str, service: str = "YouTube", key: str = "yt-key", **extra: Any) -> Any:
        body = {"service": service, "streamKey": key, **extra}
        return await self.ok("POST", f"/streams/{stream_id}/destination", token=token, json=body)


def error_of(r: httpx.Response) -> tuple[int, int]:
    """(HTTP status, errorCode), after checking rig's error envelope."""
    assert r.headers["content-type"] == "application/json", r.headers
    body = r.json()
    assert set(body) == {"message", "errorCode", "details"}, body
    assert isinstance(body["message"], str) and body["message"]
    return r.status_code, body["errorCode"]


async def make_rig(factory: Factory, client: httpx.AsyncClient, runtime: Runtime, **options: Any) -> Rig:
    tenant = await factory.create_tenant("acme")
    sat = await factory.sat(tenant.pat, "rig")
    name = options.pop("name", "test")
    instance = await factory.create_instance(sat, "rig", name, **options)
    return Rig(client, runtime, sat, name, instance)


@pytest.fixture
async def rig(factory: Factory, client: httpx.AsyncClient, runtime: Runtime) -> Rig:
    return await make_rig(factory, client, runtime)
