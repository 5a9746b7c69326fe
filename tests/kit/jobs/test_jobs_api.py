"""The facade's surface: the registry, argument checks at enqueue, and the pinned public names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import mediaplane.kit.jobs as jobs
from mediaplane.config import Settings
from mediaplane.kit.db import create_database
from mediaplane.kit.jobs import JobContext, JobQueue, JobRegistry, UnknownJobError, create_job_queue, job


@pytest.fixture
async def queue(tmp_path: Path) -> AsyncIterator[JobQueue]:
    """A queue that is never sent anything: these checks fail before any database or broker is used."""
    db = create_database(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}")
    jobs_queue = create_job_queue(Settings(data_dir=tmp_path / "data"), db)
    try:
        yield jobs_queue
    finally:
        await jobs_queue.close()
        await db.dispose()


class TestRegistry:
    def test_a_job_must_be_async(self) -> None:
        with pytest.raises(TypeError, match="async"):

            @job("tests.sync", registry=JobRegistry())
            def sync(ctx: JobContext) -> None: ...

    @pytest.mark.parametrize("name", ["purge", "Core.purge", "core.", "core purge", ".purge"])
    def test_names_are_owner_dot_verb(self, name: str) -> None:
        with pytest.raises(ValueError, match=r"owner\.verb"):
            job(name, registry=JobRegistry())

    def test_a_name_belongs_to_one_function(self) -> None:
        registry = JobRegistry()

        async def first(ctx: JobContext) -> None: ...

        async def second(ctx: JobContext) -> None: ...

        job("tests.one", registry=registry)(first)
        job("tests.one", registry=registry)(first)  # the same function again (a module reloaded) is fine
        with pytest.raises(ValueError, match="already registered"):
            job("tests.one", registry=registry)(second)

    def test_the_decorated_function_is_returned_unchanged(self) -> None:
        async def work(ctx: JobContext, *, n: int) -> dict[str, Any]:
            return {"n": n}

        registry = JobRegistry()
        assert job("tests.work", registry=registry, max_attempts=5, timeout=2)(work) is work
        definition = registry.require("tests.work")
        assert (definition.max_attempts, definition.timeout and definition.timeout.total_seconds()) == (5, 2.0)


class TestEnqueueChecks:
    async def test_unknown_name(self, queue: JobQueue) -> None:
        async with queue.db.sessionmaker() as session:
            with pytest.raises(UnknownJobError, match=r"samples\.typo"):
                await queue.enqueue(session, "samples.typo", {})

    async def test_arguments_must_fit_the_function(self, queue: JobQueue) -> None:
        async with queue.db.sessionmaker() as session:
            with pytest.raises(TypeError, match=r"samples\.record"):
                await queue.enqueue(session, "samples.record", {"path": "x"})
            with pytest.raises(TypeError, match="JSON"):
                await queue.enqueue(session, "samples.record", {"path": "x", "tag": object()})


def test_public_names_are_pinned() -> None:
    assert sorted(jobs.__all__) == sorted(
        [
            "JOB_STATES",
            "TERMINAL_STATES",
            "JobCancelled",
            "JobContext",
            "JobDeferred",
            "JobDefinition",
            "JobError",
            "JobQueue",
            "JobRecord",
            "JobRegistry",
            "UnknownJobError",
            "create_job_queue",
            "job",
            "registered_jobs",
        ]
    )
    assert all(hasattr(jobs, name) for name in jobs.__all__)
