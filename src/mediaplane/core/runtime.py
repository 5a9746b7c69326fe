"""Everything a process needs at run time, built once at start-up and closed at shutdown."""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass, field

from mediaplane.config import Settings
from mediaplane.core.catalog import Registry, discover_services
from mediaplane.kit.clock import Clock
from mediaplane.kit.db import Database, create_database
from mediaplane.kit.events import EventBus, create_event_bus
from mediaplane.kit.jobs import JobQueue, create_job_queue
from mediaplane.kit.storage import Storage, create_storage

log = logging.getLogger(__name__)

# The platform's own jobs; services list theirs in ServiceSpec.job_modules.
CORE_JOB_MODULES = ("mediaplane.core.instance.tasks",)


@dataclass
class Runtime:
    settings: Settings
    db: Database
    registry: Registry
    clock: Clock
    storage: Storage
    events: EventBus
    jobs: JobQueue
    extras: dict[str, object] = field(default_factory=dict)

    async def close(self) -> None:
        await self.jobs.close()
        await self.events.close()
        await self.storage.close()
        await self.db.dispose()


async def open_runtime(
    settings: Settings,
    *,
    registry: Registry | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
) -> Runtime:
    from mediaplane import migrations

    for module in CORE_JOB_MODULES:
        importlib.import_module(module)
    settings.prepared()
    registry = registry if registry is not None else discover_services()
    clock = clock or Clock()
    db = create_database(settings.resolved_database_url)
    if migrate:
        await migrations.upgrade(db, registry)
    storage = create_storage(settings)
    events = create_event_bus(settings.redis_url)
    runtime = Runtime(settings, db, registry, clock, storage, events, jobs=None)  # type: ignore[arg-type]
    runtime.jobs = create_job_queue(
        settings,
        db,
        events=events,
        clock=clock,
        resources=runtime,
        retry_delay=settings.job_retry_delay,
        max_retry_delay=settings.job_max_retry_delay,
        shutdown_grace=settings.job_shutdown_grace,
    )
    return runtime
