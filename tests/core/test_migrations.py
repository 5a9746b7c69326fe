"""The migrations build the schema from empty, and agree with the models, on every backend."""

from __future__ import annotations

from sqlalchemy import inspect

from mediaplane import migrations
from mediaplane.core import models as core_models
from mediaplane.core.catalog import discover_services
from mediaplane.kit.db import create_database


async def test_models_and_migrations_agree(database_url: str) -> None:
    db = create_database(database_url)
    try:
        await migrations.check(db, discover_services())
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        core = {getattr(core_models, name).__tablename__ for name in core_models.__all__}
        assert core <= tables
    finally:
        await db.dispose()


async def test_upgrade_is_idempotent(database_url: str) -> None:
    db = create_database(database_url)
    try:
        await migrations.upgrade(db, discover_services())
        await migrations.upgrade(db, discover_services())
    finally:
        await db.dispose()
