"""Fixtures for kit.jobs: each test runs on both backends, on a database built by the migrations.

- embedded: a SQLite file (a copy of a migrated template) + SqliteHuey (queue.db in the test's data folder);
- redis: a PostgreSQL database of this test module (emptied before each test) + PriorityRedisHuey on a
  dedicated Redis db, with a queue name of the test's own.

PostgreSQL or Redis missing: those tests are skipped locally, and fail when CI=true.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import kit_jobs_samples  # noqa: F401  (registers the sample jobs in this process)
import pytest
import redis
from kit_jobs_support import Backend, make_queue
from sqlalchemy import delete
from tests.fixtures.required import require_or_skip

from mediaplane.core.catalog import Registry
from mediaplane.kit.db import Database, create_database
from mediaplane.kit.jobs import JobQueue, JobRecord
from mediaplane.migrations import upgrade

PG_DSN = os.environ.get("MEDIAPLANE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("MEDIAPLANE_TEST_REDIS", "redis://127.0.0.1:6379/11")


unavailable = require_or_skip


def run_async(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Runs a coroutine to the end on a loop of its own, in a thread, clear of the tests' event loops."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(make())
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


async def migrate(url: str) -> None:
    db = create_database(url)
    try:
        await upgrade(db, Registry())
    finally:
        await db.dispose()


async def pg_admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_DSN, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def empty_jobs(url: str) -> None:
    db = create_database(url)
    try:
        async with db.session() as session:
            await session.execute(delete(JobRecord))
    finally:
        await db.dispose()


@pytest.fixture(scope="module")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    file = tmp_path_factory.mktemp("jobs-template") / "template.db"
    run_async(lambda: migrate(f"sqlite+aiosqlite:///{file}"))
    return file


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    """A database of this test module's own, built by the migrations, dropped at the end."""
    name = f"jobs_{uuid.uuid4().hex[:12]}"
    try:
        run_async(lambda: pg_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        unavailable(f"PostgreSQL at {PG_DSN}", exc)
    url = PG_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://", 1) + f"/{name}"
    try:
        run_async(lambda: migrate(url))
        yield url
    finally:
        run_async(lambda: pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def redis_url() -> str:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        unavailable(f"Redis at {REDIS_URL}", exc)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture(params=["embedded", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """SQLite pairs with the embedded queue, PostgreSQL with Redis: the two ways mediaplane is deployed."""
    name = f"t{uuid.uuid4().hex[:12]}"
    if request.param == "embedded":
        file = tmp_path / "jobs.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), file)
        yield Backend("embedded", f"sqlite+aiosqlite:///{file}", tmp_path / "data", None, name)
        return
    database_url = request.getfixturevalue("postgres_url")
    url = request.getfixturevalue("redis_url")
    run_async(lambda: empty_jobs(database_url))
    yield Backend("redis", database_url, tmp_path / "data", url, name)
    client = redis.Redis.from_url(url)
    try:
        keys = list(client.scan_iter(match=f"huey.*.{name}"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
async def db(backend: Backend) -> AsyncIterator[Database]:
    database = create_database(backend.database_url)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def queue(backend: Backend, db: Database) -> AsyncIterator[JobQueue]:
    jobs = make_queue(backend, db)
    try:
        yield jobs
    finally:
        await jobs.close()
