from __future__ import annotations

import httpx
import pytest

from mediaplane.core.catalog import InstanceOption, ServiceSpec, discover_services
from tests.fixtures.factories import Factory


class TestCatalog:
    async def test_lists_registered_services(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/catalog")
        assert r.status_code == 200
        services = {s["serviceId"]: s for s in r.json()}
        assert set(services) == {"notes", "clips"}
        notes = services["notes"]
        assert notes["apiUrl"] == "http://testserver/notesinstance"
        assert notes["title"] == "Notes (test)"
        assert notes["docsUrl"] == "https://example.invalid/notes"
        assert notes["serviceMetadata"]["documentationUrl"] == "https://example.invalid/notes"
        color = next(o for o in notes["serviceInstanceOptions"] if o["name"] == "color")
        assert color == {
            "name": "color",
            "label": "Color",
            "type": "enum",
            "mandatory": False,
            "description": "",
            "enums": ["red", "blue"],
        }
        motto = next(o for o in notes["serviceInstanceOptions"] if o["name"] == "motto")
        assert motto["regexValidator"] == "[a-z ]*"

    async def test_one_service(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/catalog/clips")).json()["serviceId"] == "clips"
        r = await client.get("/catalog/nope")
        assert r.status_code == 404 and r.json()["reason"]

    async def test_mysubscriptions(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.create_tenant("acme")
        h = {"x-pat-jwt": f"Bearer {tenant.pat}"}
        subs = (await client.get("/mysubscriptions", headers=h)).json()
        assert {(s["serviceId"], s["tenantId"]) for s in subs} == {("notes", "acme"), ("clips", "acme")}
        r = await client.post("/mysubscriptions", headers=h, json={"services": ["notes"]})
        assert r.json() == {"teamId": "acme", "services": ["clips", "notes"]}
        assert (await client.post("/mysubscriptions", headers=h, json={"services": ["x"]})).status_code == 404
        assert (await client.get("/mysubscriptions")).status_code == 401

    def test_shipped_catalog_lists_only_real_services(self) -> None:
        for spec in discover_services():
            assert spec.id in {"encore", "rig", "eyeson", "gosd"}


def test_option_names_that_shadow_instance_fields_are_refused() -> None:
    with pytest.raises(ValueError, match="reserved"):
        ServiceSpec(id="x", title="x", description="x", build_app=dict, options=[InstanceOption("url", "URL")])
    with pytest.raises(ValueError, match="must match"):
        ServiceSpec(id="X-1", title="x", description="x", build_app=dict)
