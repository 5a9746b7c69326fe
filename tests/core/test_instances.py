from __future__ import annotations

import asyncio

import httpx
import pytest

from mediaplane.core.runtime import Runtime
from tests.fixtures.factories import Factory


def sat_headers(sat: str) -> dict[str, str]:
    return {"x-jwt": f"Bearer {sat}"}


@pytest.fixture
async def acme_sat(factory: Factory) -> str:
    tenant = await factory.create_tenant("acme")
    return await factory.sat(tenant.pat, "notes")


class TestCreate:
    async def test_spec_example(self, client: httpx.AsyncClient, acme_sat: str) -> None:
        r = await client.post(
            "/notesinstance",
            headers={"accept": "application/json", "x-jwt": f"Bearer {acme_sat}", "Content-Type": "application/json"},
            content='{\n  "name": "test"\n}',
        )
        assert r.status_code == 200
        body = r.json()
        assert isinstance(body, dict)
        assert body["name"] == "test"
        assert body["url"] == "http://testserver/notes/acme-test/"
        assert body["status"] == "running"
        assert body["loud"] is False
        assert body["resources"]["notes"] == {"url": "http://testserver/notes/acme-test/notes", "method": "GET"}
        assert body["resources"]["license"]["url"] == "http://testserver/licenses/notes"
        assert body["_links"]["self"] == {"href": "/notesinstance/test"}
        assert body["_links"]["health"] == {"href": "/notesinstance/test/health"}

    async def test_options_validated(self, client: httpx.AsyncClient, acme_sat: str) -> None:
        h = sat_headers(acme_sat)
        ok = await client.post("/notesinstance", headers=h, json={"name": "a", "color": "red", "loud": "true"})
        assert ok.status_code == 200
        assert ok.json()["color"] == "red" and ok.json()["loud"] is True
        for body in (
            {"name": "b", "color": "green"},
            {"name": "b", "shape": "round"},
            {"name": "b", "motto": "NO CAPS"},
            {"name": "b", "loud": "maybe"},
            {"name": "b", "color": ["red"]},
        ):
            r = await client.post("/notesinstance", headers=h, json=body)
            assert r.status_code == 400, body
            assert r.json()["reason"]

    @pytest.mark.parametrize("name", ["", "Test", "my-test", "a_b", "x" * 64, None, 5, "../etc"])
    async def test_bad_names(self, client: httpx.AsyncClient, acme_sat: str, name: object) -> None:
        r = await client.post("/notesinstance", headers=sat_headers(acme_sat), json={"name": name})
        assert r.status_code == 400
        assert "reason" in r.json()

    async def test_not_an_object(self, client: httpx.AsyncClient, acme_sat: str) -> None:
        r = await client.post("/notesinstance", headers=sat_headers(acme_sat), json=[{"name": "x"}])
        assert r.status_code == 400

    async def test_duplicate_name(self, client: httpx.AsyncClient, acme_sat: str) -> None:
        h = sat_headers(acme_sat)
        assert (await client.post("/notesinstance", headers=h, json={"name": "dup"})).status_code == 200
        r = await client.post("/notesinstance", headers=h, json={"name": "dup", "color": "red"})
        assert r.status_code == 409
        # The stored instance is untouched.
        assert "color" not in (await client.get("/notesinstance/dup", headers=h)).json()

    async def test_sat_in_authorization_or_cookie(self, client: httpx.AsyncClient, acme_sat: str) -> None:
        r = await client.post("/notesinstance", headers={"authorization": f"Bearer {acme_sat}"}, json={"name": "a"})
        assert r.status_code == 200
        client.cookies.set("notes.sat", acme_sat)
        try:
            assert (await client.get("/notesinstance/a")).status_code == 200
        finally:
            client.cookies.clear()

    async def test_unknown_service(self, client: httpx.AsyncClient, acme_sat: str) -> None:
        r = await client.post("/nopeinstance", headers=sat_headers(acme_sat), json={"name": "a"})
        assert r.status_code == 404


class TestLifecycle:
    async def test_read_update_health_logs_ports_restart(self, client: httpx.AsyncClient, acme_sat: str) -> None:
        h = sat_headers(acme_sat)
        await client.post("/notesinstance", headers=h, json={"name": "one", "color": "red"})
        await client.post("/notesinstance", headers=h, json={"name": "two"})
        assert [i["name"] for i in (await client.get("/notesinstance", headers=h)).json()] == ["one", "two"]

        r = await client.patch("/notesinstance/one", headers=h, json={"color": "blue", "motto": "hi there"})
        assert r.status_code == 200
        assert r.json()["color"] == "blue" and r.json()["motto"] == "hi there"
        assert (await client.patch("/notesinstance/one", headers=h, json={"color": "pink"})).status_code == 400
        assert (await client.patch("/notesinstance/one", headers=h, json={"name": "other"})).status_code == 400
        assert (await client.get("/notesinstance/one", headers=h)).json()["color"] == "blue"

        assert (await client.get("/notesinstance/one/health", headers=h)).json() == {"status": "running"}
        logs = await client.get("/notesinstance/one/logs", headers=h)
        assert logs.headers["content-type"].startswith("text/plain")
        assert "instance one created" in logs.text and "options updated: color, motto" in logs.text
        stamped = await client.get("/notesinstance/one/logs?timestamps=true", headers=h)
        assert stamped.text.split(" ", 1)[0].startswith("20")
        ports = (await client.get("/notesinstance/one/ports", headers=h)).json()
        assert ports == [{"externalIp": "127.0.0.1", "externalPort": 1935, "internalPort": 1935}]
        assert (await client.post("/notesinstance/one/restart", headers=h)).status_code == 204
        assert "instance restarted" in (await client.get("/notesinstance/one/logs", headers=h)).text
        assert (await client.get("/notesinstance/nothere", headers=h)).status_code == 404

    async def test_delete_removes_instance_and_files(
        self, client: httpx.AsyncClient, acme_sat: str, runtime: Runtime
    ) -> None:
        h = sat_headers(acme_sat)
        created = (await client.post("/notesinstance", headers=h, json={"name": "gone"})).json()
        put = await client.put(f"{created['url']}notes/n1", headers=h, json={"text": "keep me"})
        assert put.status_code == 201
        prefix = f"instances/{await _instance_id(runtime, 'gone')}"
        assert await runtime.storage.list(prefix)

        r = await client.delete("/notesinstance/gone", headers=h)
        assert r.status_code == 204 and r.content == b""
        assert (await client.get("/notesinstance/gone", headers=h)).status_code == 404
        assert (await client.get(f"{created['url']}notes", headers=h)).status_code == 404
        assert (await client.delete("/notesinstance/gone", headers=h)).status_code == 404

        runtime.jobs.start_workers(1)
        for _ in range(200):
            if not await runtime.storage.list(prefix):
                break
            await asyncio.sleep(0.05)
        assert await runtime.storage.list(prefix) == []

    async def test_name_reusable_after_delete(self, client: httpx.AsyncClient, acme_sat: str) -> None:
        h = sat_headers(acme_sat)
        await client.post("/notesinstance", headers=h, json={"name": "again", "color": "red"})
        assert (await client.delete("/notesinstance/again", headers=h)).status_code == 204
        r = await client.post("/notesinstance", headers=h, json={"name": "again"})
        assert r.status_code == 200 and "color" not in r.json()


async def _instance_id(runtime: Runtime, name: str) -> str:
    from sqlalchemy import select

    from mediaplane.core.instance.models import Instance

    async with runtime.db.session() as session:
        return (await session.execute(select(Instance.id).where(Instance.name == name))).scalar_one()
