"""The job queue end to end in one process: real database, real huey broker, real worker threads.

Every test runs twice: embedded (SQLite + SqliteHuey) and scale-out (PostgreSQL + PriorityRedisHuey).
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest
from kit_jobs_support import DEADLINE, Backend, enqueue, load, make_queue, state_is, wait_for_job, wait_until
from sqlalchemy import func, select

from mediaplane.kit.db import Database
from mediaplane.kit.events import create_event_bus
from mediaplane.kit.jobs import JobQueue, JobRecord
from mediaplane.kit.jobs.queue import CANCEL_CHANNEL


def lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


class TestEnqueue:
    async def test_sent_only_after_commit_and_never_after_rollback(
        self, queue: JobQueue, db: Database, tmp_path: Path
    ) -> None:
        out = tmp_path / "ran"
        async with db.session() as session:
            record = await queue.enqueue(session, "samples.record", {"path": str(out), "tag": "committed"})
            assert record.state == "queued"
            assert queue.huey.storage.queue_size() == 0
        assert queue.huey.storage.queue_size() == 1

        with pytest.raises(RuntimeError):
            async with db.session() as session:
                await queue.enqueue(session, "samples.record", {"path": str(out), "tag": "rolled back"})
                raise RuntimeError("the request failed")
        assert queue.huey.storage.queue_size() == 1

        queue.start_workers(1)
        done = await wait_for_job(db, record.id, state_is("succeeded"))
        assert done.result == {"tag": "committed"}
        assert done.attempts == 1
        assert lines(out) == ["committed"]
        async with db.session() as session:
            assert await session.scalar(select(func.count()).select_from(JobRecord)) == 1

    async def test_a_released_savepoint_is_not_the_commit(self, queue: JobQueue, db: Database, tmp_path: Path) -> None:
        async with db.session() as session:
            async with session.begin_nested():
                await queue.enqueue(session, "samples.record", {"path": str(tmp_path / "out"), "tag": "x"})
            assert queue.huey.storage.queue_size() == 0
        assert queue.huey.storage.queue_size() == 1

    async def test_higher_priority_runs_first(self, queue: JobQueue, db: Database, tmp_path: Path) -> None:
        out = tmp_path / "order"
        async with db.session() as session:
            ids = [
                (await queue.enqueue(session, "samples.record", {"path": str(out), "tag": tag}, priority=p)).id
                for tag, p in (("low", 0), ("high", 10), ("middle", 5))
            ]
        queue.start_workers(1)
        for job_id in ids:
            await wait_for_job(db, job_id, state_is("succeeded"))
        assert lines(out) == ["high", "middle", "low"]


class TestProgress:
    async def test_progress_is_written_while_running(self, queue: JobQueue, db: Database, tmp_path: Path) -> None:
        release = tmp_path / "release"
        queue.start_workers(1)
        job_id = await enqueue(
            queue, db, "samples.wait", {"started": str(tmp_path / "started"), "release": str(release)}
        )

        running = await wait_for_job(db, job_id, lambda r: r.progress == 50.0)
        assert running.state == "running"
        assert running.progress_info == {"step": "half"}

        release.touch()
        done = await wait_for_job(db, job_id, state_is("succeeded"))
        assert done.progress == 100.0
        assert done.result == {"attempt": 1, "pid": os.getpid()}


class TestCancel:
    async def test_queued_job_is_cancelled_at_once_and_never_runs(
        self, queue: JobQueue, db: Database, tmp_path: Path
    ) -> None:
        out = tmp_path / "ran"
        doomed = await enqueue(queue, db, "samples.record", {"path": str(out), "tag": "doomed"}, priority=10)
        kept = await enqueue(queue, db, "samples.record", {"path": str(out), "tag": "kept"})
        async with db.session() as session:
            record = await queue.cancel(session, doomed)
            assert record is not None
            assert record.state == "cancelled"
        queue.start_workers(1)
        await wait_for_job(db, kept, state_is("succeeded"))
        cancelled = await load(db, doomed)
        assert (cancelled.state, cancelled.attempts, cancelled.started_at) == ("cancelled", 0, None)
        assert lines(out) == ["kept"]

    async def test_finished_or_missing_jobs_are_left_alone(self, queue: JobQueue, db: Database, tmp_path: Path) -> None:
        queue.start_workers(1)
        job_id = await enqueue(queue, db, "samples.record", {"path": str(tmp_path / "out"), "tag": "x"})
        await wait_for_job(db, job_id, state_is("succeeded"))
        async with db.session() as session:
            record = await queue.cancel(session, job_id)
            assert record is not None
            assert record.state == "succeeded"
            assert await queue.cancel(session, "no-such-job") is None

    async def test_running_job_observes_the_cancel(self, queue: JobQueue, db: Database, tmp_path: Path) -> None:
        marker = tmp_path / "marker"
        queue.start_workers(1)
        job_id = await enqueue(queue, db, "samples.block", {"marker": str(marker)})
        await wait_until(marker.exists, "the job to start")

        async with db.session() as session:
            record = await queue.cancel(session, job_id)
            assert record is not None
            assert (record.state, record.cancel_requested) == ("running", True)

        done = await wait_for_job(db, job_id, state_is("cancelled"))
        assert done.finished_at is not None
        assert lines(Path(f"{marker}.cancelled")) == ["True"]

    async def test_cancel_from_another_process_arrives_through_the_event_bus(
        self, backend: Backend, db: Database, tmp_path: Path
    ) -> None:
        """Two queues stand for two processes. The worker side reads rows for cancels only every two
        minutes here, so a cancel seen within the test's deadline came through the bus."""
        marker = tmp_path / "marker"
        bus = create_event_bus(backend.redis_url)
        workers = make_queue(backend, db, events=bus, lease=timedelta(minutes=10), cancel_poll=timedelta(minutes=2))
        sender = make_queue(backend, db, events=bus)
        try:
            async with bus.subscribe(CANCEL_CHANNEL) as probe:
                workers.start_workers(1)
                await wait_until(lambda: bus.subscriber_count(CANCEL_CHANNEL) == 2, "the workers to listen")
                job_id = await enqueue(sender, db, "samples.block", {"marker": str(marker)})
                await wait_until(marker.exists, "the job to start")
                async with db.session() as session:
                    await sender.cancel(session, job_id)
                assert await asyncio.wait_for(anext(probe), DEADLINE) == {"job_id": job_id}
                await wait_for_job(db, job_id, state_is("cancelled"))
        finally:
            await workers.close()
            await sender.close()
            await bus.close()

    async def test_cancel_scope_cancels_only_that_scope(self, queue: JobQueue, db: Database, tmp_path: Path) -> None:
        marker = tmp_path / "marker"
        out = str(tmp_path / "out")
        queue.start_workers(1)
        running = await enqueue(queue, db, "samples.block", {"marker": str(marker)}, scope="a")
        await wait_until(marker.exists, "the job to start")
        queued = await enqueue(queue, db, "samples.record", {"path": out, "tag": "a"}, scope="a")
        other = await enqueue(queue, db, "samples.record", {"path": out, "tag": "b"}, scope="b", delay=60)

        async with db.session() as session:
            assert await queue.cancel_scope(session, "a") == 2

        assert (await load(db, queued)).state == "cancelled"
        await wait_for_job(db, running, state_is("cancelled"))
        assert (await load(db, other)).state == "queued"


class TestRetry:
    async def test_retries_with_backoff_then_fails(self, queue: JobQueue, db: Database, tmp_path: Path) -> None:
        log = tmp_path / "attempts"
        queue.start_workers(1)
        job_id = await enqueue(queue, db, "samples.fail", {"path": str(log)})

        failed = await wait_for_job(db, job_id, state_is("failed"))
        assert failed.attempts == 3
        assert failed.error == "ValueError: boom"
        runs = [line.split() for line in lines(log)]
        assert [attempt for attempt, _ in runs] == ["1", "2", "3"]
        # A retry is never claimed before its run_at: the gaps are at least 0.1 s, then 0.2 s.
        times = [float(moment) for _, moment in runs]
        assert times[1] - times[0] >= 0.09
        assert times[2] - times[1] >= 0.19

    async def test_succeeds_on_a_later_attempt(self, queue: JobQueue, db: Database, tmp_path: Path) -> None:
        queue.start_workers(1)
        job_id = await enqueue(queue, db, "samples.fail", {"path": str(tmp_path / "log"), "succeed_on": 2})
        done = await wait_for_job(db, job_id, state_is("succeeded"))
        assert (done.attempts, done.result, done.error) == (2, {"attempt": 2}, None)

    async def test_a_deferred_job_runs_later_without_using_an_attempt(
        self, queue: JobQueue, db: Database, tmp_path: Path
    ) -> None:
        log = tmp_path / "runs"
        queue.start_workers(1)
        job_id = await enqueue(queue, db, "samples.defer", {"path": str(log), "times": 2})
        done = await wait_for_job(db, job_id, state_is("succeeded"))
        assert (done.attempts, done.result) == (1, {"runs": 3, "attempt": 1})
        times = [float(line.split()[1]) for line in lines(log)]
        assert times[1] - times[0] >= 0.09

    async def test_max_attempts_can_be_set_per_job(self, queue: JobQueue, db: Database, tmp_path: Path) -> None:
        queue.start_workers(1)
        job_id = await enqueue(queue, db, "samples.fail", {"path": str(tmp_path / "log")}, max_attempts=1)
        failed = await wait_for_job(db, job_id, state_is("failed"))
        assert failed.attempts == 1

    async def test_timeout_fails_the_attempt(self, queue: JobQueue, db: Database) -> None:
        queue.start_workers(1)
        job_id = await enqueue(queue, db, "samples.slow", {})
        failed = await wait_for_job(db, job_id, state_is("failed"))
        assert failed.error == "timed out after 0.2 s"


class TestRecovery:
    async def test_unknown_name_fails_clearly(self, queue: JobQueue, db: Database) -> None:
        """A row no process ever sent (written directly, as if the sender died after its commit) is found
        by the reaper, and a worker that does not know the name fails it instead of crashing."""
        async with db.session() as session:
            record = JobRecord(name="samples.nowhere", args={}, dispatched_at=None)
            session.add(record)
        queue.start_workers(1)
        failed = await wait_for_job(db, record.id, state_is("failed"))
        assert failed.error == "unknown job name: samples.nowhere"
        assert failed.attempts == 1

    async def test_shutdown_hands_a_running_job_back(self, backend: Backend, db: Database, tmp_path: Path) -> None:
        started, release = tmp_path / "started", tmp_path / "release"
        first = make_queue(backend, db, shutdown_grace=timedelta(seconds=0.2))
        first.start_workers(1)
        job_id = await enqueue(first, db, "samples.wait", {"started": str(started), "release": str(release)})
        await wait_until(started.exists, "the job to start")
        await first.close()

        handed_back = await load(db, job_id)
        assert (handed_back.state, handed_back.attempts, handed_back.worker) == ("queued", 0, None)

        release.touch()
        second = make_queue(backend, db)
        try:
            second.start_workers(1)
            done = await wait_for_job(db, job_id, state_is("succeeded"))
        finally:
            await second.close()
        assert done.attempts == 1
        assert done.result == {"attempt": 1, "pid": os.getpid()}
