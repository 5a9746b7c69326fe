from __future__ import annotations

import asyncio
import importlib
from typing import Any

from alembic import context
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from mediaplane.console import models as console_models
from mediaplane.core import models as core_models
from mediaplane.core.catalog import Registry, discover_services
from mediaplane.kit.db import Model

config = context.config
if "registry" not in config.attributes:
    config.attributes["registry"] = discover_services()
registry: Registry = config.attributes["registry"]
for spec in registry:
    for module in spec.model_modules:
        importlib.import_module(module)
target_metadata = Model.metadata

CORE_TABLES = {getattr(core_models, name).__tablename__ for name in core_models.__all__} | {
    console_models.ConsoleSession.__tablename__,
    console_models.SignInFailure.__tablename__,
}
SERVICE_PREFIXES = tuple(f"{spec.id}_" for spec in registry)


def owned(name: str | None) -> bool:
    """Core tables, and `<serviceId>_*` tables of the registered services; anything else is not ours."""
    return name is not None and (name in CORE_TABLES or name.startswith(SERVICE_PREFIXES))


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if type_ == "table":
        return owned(name)
    return True


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return

    async def run_async() -> None:
        engine = create_async_engine(config.get_main_option("sqlalchemy.url") or "")
        async with engine.begin() as conn:
            await conn.run_sync(run_with)
        await engine.dispose()

    asyncio.run(run_async())


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_online()
