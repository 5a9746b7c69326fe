"""Each instance's own API: path-based and host-based, its docs, its error format, and who may call it."""

from __future__ import annotations

import httpx
import pytest
import yaml

from mediaplane.app import create_app
from mediaplane.core.runtime import Runtime
from tests.fixtures.factories import Factory


@pytest.fixture
async def acme(factory: Factory, client: httpx.AsyncClient) -> dict[str, str]:
    tenant = await factory.create_tenant("acme")
    sat = await factory.sat(tenant.pat, "notes")
    await factory.create_instance(sat, "notes", "test")
    return {"pat": tenant.pat, "sat": sat}


class TestPathBased:
    async def test_instance_api(self, client: httpx.AsyncClient, acme: dict[str, str]) -> None:
        h = {"x-jwt": f"Bearer {acme['sat']}"}
        r = await client.put("/notes/acme-test/notes/first", headers=h, json={"text": "hello"})
        assert r.status_code == 201
        r = await client.get("/notes/acme-test/notes/first", headers=h)
        assert r.json() == {"note": "first", "text": "hello"}
        listing = (await client.get("/notes/acme-test/notes", headers=h)).json()
        assert listing == {"instance": "test", "tenant": "acme", "notes": ["first"]}

    async def test_errors_in_the_services_format(self, client: httpx.AsyncClient, acme: dict[str, str]) -> None:
        h = {"x-jwt": f"Bearer {acme['sat']}"}
        r = await client.get("/notes/acme-test/notes/missing", headers=h)
        assert r.status_code == 404
        assert r.json() == {"error": {"status": 404, "message": "no note missing"}}
        r = await client.get("/notes/acme-nothere/notes", headers=h)
        assert r.status_code == 404 and r.json()["error"]["status"] == 404
        # Whether an instance exists is only told to its own tenant.
        assert (await client.get("/notes/acme-nothere/docs")).status_code == 401
        assert (await client.get("/notes/acme-test/docs")).status_code == 200
        assert (await client.get("/notes/other-nothere/notes", headers=h)).status_code == 403
        r = await client.put("/notes/acme-test/notes/x", headers=h, json={"nottext": 1})
        assert r.status_code == 400 and "error" in r.json()
        r = await client.get("/notes/acme-test/notes")
        assert r.status_code == 401 and r.json()["error"]["status"] == 401

    async def test_openapi_and_docs(self, client: httpx.AsyncClient, acme: dict[str, str]) -> None:
        doc = (await client.get("/notes/acme-test/v3/api-docs")).json()
        assert doc["info"]["title"] == "notes API"
        assert doc["servers"] == [{"url": "/notes/acme-test"}]
        assert "/notes/{note}" in doc["paths"]
        r = await client.get("/notes/acme-test/v3/api-docs.yaml")
        assert yaml.safe_load(r.text)["paths"].keys() == doc["paths"].keys()
        html = (await client.get("/notes/acme-test/docs")).text
        assert "swagger" in html.lower() and "/notes/acme-test/v3/api-docs" in html


class TestHostBased:
    async def test_host_routing(self, runtime: Runtime, factory: Factory, acme: dict[str, str]) -> None:
        runtime.settings.base_domain = "media.test"
        app = create_app(runtime=runtime)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://acme-test.notes.media.test:8080"
        ) as c:
            h = {"x-jwt": f"Bearer {acme['sat']}"}
            assert (await c.put("/notes/n", headers=h, json={"text": "t"})).status_code == 201
            assert (await c.get("/notes/n", headers=h)).json()["text"] == "t"
            assert (await c.get("/v3/api-docs")).json()["info"]["title"] == "notes API"
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://platform.media.test:8080"
        ) as c:
            obj = (await c.get("/notesinstance/test", headers={"x-jwt": f"Bearer {acme['sat']}"})).json()
            assert obj["url"] == "http://acme-test.notes.media.test:8080/"
            assert obj["resources"]["notes"]["url"] == "http://acme-test.notes.media.test:8080/notes"
