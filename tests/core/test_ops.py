from __future__ import annotations

import httpx

from mediaplane.core.runtime import Runtime
from tests.fixtures.factories import Factory


async def test_root(client: httpx.AsyncClient) -> None:
    body = (await client.get("/")).json()
    assert body["name"] == "mediaplane" and body["_links"]["catalog"] == {"href": "/catalog"}


async def test_health(client: httpx.AsyncClient) -> None:
    r = await client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


async def test_ready(client: httpx.AsyncClient) -> None:
    r = await client.get("/ready")
    assert r.status_code == 200
    assert r.json() == {"status": "ready", "checks": {"database": "ok", "queue": "ok"}}


async def test_ready_reports_a_dead_database(client: httpx.AsyncClient, runtime: Runtime) -> None:
    from mediaplane.kit.db import create_database

    healthy = runtime.db
    runtime.db = create_database("sqlite+aiosqlite:////nonexistent/dir/x.db")
    try:
        r = await client.get("/ready")
    finally:
        await runtime.db.dispose()
        runtime.db = healthy
    assert r.status_code == 503
    assert r.json()["checks"]["database"].startswith("error")


async def test_metrics(client: httpx.AsyncClient, factory: Factory) -> None:
    tenant = await factory.create_tenant()
    sat = await factory.sat(tenant.pat, "notes")
    await factory.create_instance(sat, "notes", "m")
    await client.get("/notes/acme-m/notes", headers={"x-jwt": f"Bearer {sat}"})
    await factory.create_instance(sat, "notes", "gone")
    await client.delete("/notesinstance/gone", headers={"x-jwt": f"Bearer {sat}"})
    text = (await client.get("/metrics")).text
    assert 'mediaplane_jobs{name="core.instance_purge",state="queued"} 1.0' in text
    assert 'mediaplane_http_requests_total{method="POST",route="/servicetoken",status="200"} 1.0' in text
    assert 'route="/notes/<instance>"' in text
    assert 'mediaplane_instances{service="notes"} 1.0' in text
