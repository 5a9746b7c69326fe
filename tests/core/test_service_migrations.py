"""A service's own migration branch: applied beside core, checked against its models, rows cascade away."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from mediaplane import migrations
from mediaplane.app import create_app
from mediaplane.core.catalog import Registry
from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import open_runtime
from tests.conftest import make_settings
from tests.fixtures.databases import pg_admin, pg_available, pg_url
from tests.fixtures.factories import Factory
from tests.fixtures.ledger import ledger_spec
from tests.fixtures.required import require_or_skip


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of its own: this test adds a branch the shared test databases must not carry."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
        return
    error = pg_available()
    if error is not None:
        require_or_skip("PostgreSQL at 127.0.0.1:5432", error)
    name = f"mp_ledger_{uuid.uuid4().hex[:10]}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    yield pg_url(name).replace("postgresql://", "postgresql+asyncpg://")
    asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def test_branch_applies_checks_and_cascades(empty_database: str, tmp_path: Path) -> None:
    from tests.fixtures.ledger.models import LedgerEntry

    registry = Registry([ledger_spec()])
    runtime = await open_runtime(make_settings(tmp_path / "data", empty_database), registry=registry)
    try:
        await migrations.check(runtime.db, registry)
        transport = httpx.ASGITransport(app=create_app(runtime=runtime))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            factory = Factory(runtime, client)
            tenant = await factory.create_tenant("acme")
            sat = await factory.sat(tenant.pat, "ledger")
            await factory.create_instance(sat, "ledger", "books")
            async with runtime.db.session() as session:
                instance_id = (await session.execute(select(Instance.id))).scalar_one()
                session.add(LedgerEntry(instance_id=instance_id, text="first"))
            r = await client.delete("/ledgerinstance/books", headers={"x-jwt": f"Bearer {sat}"})
            assert r.status_code == 204
            async with runtime.db.session() as session:
                assert (await session.execute(select(func.count()).select_from(LedgerEntry))).scalar_one() == 0
    finally:
        await runtime.close()
