from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from mediaplane.kit.clock import FrozenClock
from tests.fixtures.factories import Factory


def pat_headers(pat: str) -> dict[str, str]:
    return {"x-pat-jwt": f"Bearer {pat}"}


class TestServiceToken:
    async def test_spec_example(self, client: httpx.AsyncClient, factory: Factory, clock: FrozenClock) -> None:
        tenant = await factory.create_tenant("acme")
        r = await client.post(
            "/servicetoken",
            headers={"accept": "application/json", **pat_headers(tenant.pat), "Content-Type": "application/json"},
            content='{\n  "serviceId": "notes"\n}',
        )
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("application/json")
        body = r.json()
        assert set(body) == {"serviceId", "token", "expiry"}
        assert body["serviceId"] == "notes"
        assert body["expiry"] == clock.timestamp() + 3600

    async def test_unknown_service(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.create_tenant()
        r = await client.post("/servicetoken", headers=pat_headers(tenant.pat), json={"serviceId": "nope"})
        assert r.status_code == 404
        assert "nope" in r.json()["reason"]

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"x-pat-jwt": "Basic abc"},
            {"x-pat-jwt": "Bearer"},
            {"x-pat-jwt": "Bearer not.a.jwt"},
            {"x-pat-jwt": "Bearer a b"},
            {"authorization": "Bearer xyz"},
        ],
    )
    async def test_bad_header_shapes(
        self, client: httpx.AsyncClient, factory: Factory, headers: dict[str, str]
    ) -> None:
        await factory.create_tenant()
        r = await client.post("/servicetoken", headers=headers, json={"serviceId": "notes"})
        assert r.status_code == 401
        assert r.json()["reason"]

    async def test_authorization_header_works_too(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.create_tenant()
        r = await client.post(
            "/servicetoken", headers={"authorization": f"Bearer {tenant.pat}"}, json={"serviceId": "notes"}
        )
        assert r.status_code == 200

    @pytest.mark.parametrize(
        "content", ["", "not json", "[]", '{"serviceId": 5}', '{"service": "notes"}', '{"serviceId": ""}']
    )
    async def test_malformed_body(self, client: httpx.AsyncClient, factory: Factory, content: str) -> None:
        tenant = await factory.create_tenant()
        r = await client.post(
            "/servicetoken",
            headers={**pat_headers(tenant.pat), "content-type": "application/json"},
            content=content,
        )
        assert r.status_code == 400
        assert r.json()["reason"]

    async def test_a_sat_is_not_a_pat(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.create_tenant()
        sat = await factory.sat(tenant.pat, "notes")
        r = await client.post("/servicetoken", headers=pat_headers(sat), json={"serviceId": "notes"})
        assert r.status_code == 401

    async def test_sat_expires(self, client: httpx.AsyncClient, factory: Factory, clock: FrozenClock) -> None:
        tenant = await factory.create_tenant()
        sat = await factory.sat(tenant.pat, "notes")
        clock.advance(timedelta(minutes=59))
        assert (await client.get("/notesinstance", headers={"x-jwt": f"Bearer {sat}"})).status_code == 200
        clock.advance(timedelta(minutes=1, seconds=1))
        r = await client.get("/notesinstance", headers={"x-jwt": f"Bearer {sat}"})
        assert r.status_code == 401
        assert "expired" in r.json()["reason"]


class TestPats:
    async def test_create_list_revoke(self, client: httpx.AsyncClient, factory: Factory) -> None:
        tenant = await factory.create_tenant()
        r = await client.post("/pats", headers=pat_headers(tenant.pat), json={"name": "ci"})
        assert r.status_code == 201
        created = r.json()
        assert created["name"] == "ci" and created["token"]
        listed = (await client.get("/pats", headers=pat_headers(tenant.pat))).json()
        assert {p["name"] for p in listed} == {"default", "ci"}
        assert all("token" not in p for p in listed)
        assert next(p for p in listed if p["name"] == "default")["lastUsedAt"] is not None

        sat = await factory.sat(created["token"], "notes")
        r = await client.delete(f"/pats/{created['id']}", headers=pat_headers(tenant.pat))
        assert r.status_code == 200 and r.json()["revokedAt"]
        r = await client.post("/servicetoken", headers=pat_headers(created["token"]), json={"serviceId": "notes"})
        assert r.status_code == 401
        assert "revoked" in r.json()["reason"]
        # SATs minted from a revoked PAT stop working at once.
        r = await client.get("/notesinstance", headers={"x-jwt": f"Bearer {sat}"})
        assert r.status_code == 401

    async def test_cannot_revoke_another_tenants_pat(self, client: httpx.AsyncClient, factory: Factory) -> None:
        a = await factory.create_tenant("a")
        b = await factory.create_tenant("b")
        pat_id = (await client.get("/me", headers=pat_headers(a.pat))).json()["patId"]
        r = await client.delete(f"/pats/{pat_id}", headers=pat_headers(b.pat))
        assert r.status_code == 404
        assert (await client.get("/me", headers=pat_headers(a.pat))).status_code == 200


class TestTenants:
    async def test_admin_creates_tenants(self, client: httpx.AsyncClient, factory: Factory) -> None:
        admin = await factory.create_tenant("admin")
        r = await client.post("/tenants", headers=pat_headers(admin.pat), json={"name": "newco"})
        assert r.status_code == 201
        token = r.json()["token"]
        assert (await client.get("/me", headers=pat_headers(token))).json()["tenantId"] == "newco"
        r = await client.post("/tenants", headers=pat_headers(admin.pat), json={"name": "newco"})
        assert r.status_code == 409
        r = await client.post("/tenants", headers=pat_headers(admin.pat), json={"name": "Bad-Name"})
        assert r.status_code == 400
        names = [t["id"] for t in (await client.get("/tenants", headers=pat_headers(admin.pat))).json()]
        assert names == ["admin", "newco"]

    async def test_other_tenants_may_not(self, client: httpx.AsyncClient, factory: Factory) -> None:
        acme = await factory.create_tenant("acme")
        assert (await client.get("/tenants", headers=pat_headers(acme.pat))).status_code == 403
        r = await client.post("/tenants", headers=pat_headers(acme.pat), json={"name": "x"})
        assert r.status_code == 403
