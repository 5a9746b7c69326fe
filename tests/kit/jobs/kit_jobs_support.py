"""Helpers for the kit.jobs tests: the two backends, a queue factory, bounded waits, worker processes."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from mediaplane.config import Settings
from mediaplane.kit.db import Database
from mediaplane.kit.jobs import JobQueue, JobRecord, create_job_queue

LEASE = timedelta(seconds=2)
DEADLINE = 30.0  # an upper bound for waits, never a timing assertion
WORKER_MAIN = Path(__file__).with_name("worker_main.py")


@dataclass
class Backend:
    kind: str  # "embedded" or "redis"
    database_url: str
    data_dir: Path
    redis_url: str | None
    name: str

    def settings(self, lease: timedelta = LEASE) -> Settings:
        return Settings(
            data_dir=self.data_dir, database_url=self.database_url, redis_url=self.redis_url, job_lease=lease
        )


def make_queue(backend: Backend, db: Database, *, lease: timedelta = LEASE, **overrides: Any) -> JobQueue:
    """A queue on the test's backend: a short lease and quick retries, so recovery happens within seconds."""
    options: dict[str, Any] = {"retry_delay": timedelta(seconds=0.1), "shutdown_grace": timedelta(seconds=1)}
    options.update(overrides)
    return create_job_queue(backend.settings(lease), db, name=backend.name, **options)


async def enqueue(queue: JobQueue, db: Database, name: str, args: dict[str, Any], **options: Any) -> str:
    async with db.session() as session:
        record = await queue.enqueue(session, name, args, **options)
    return record.id


async def load(db: Database, job_id: str) -> JobRecord:
    async with db.session() as session:
        record = await session.get(JobRecord, job_id)
    assert record is not None
    return record


async def wait_for_job(db: Database, job_id: str, check: Callable[[JobRecord], bool]) -> JobRecord:
    deadline = time.monotonic() + DEADLINE
    while True:
        record = await load(db, job_id)
        if check(record):
            return record
        if time.monotonic() > deadline:
            raise AssertionError(f"job {job_id} is still {record.state} (error: {record.error})")
        await asyncio.sleep(0.05)


async def wait_until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def state_is(*states: str) -> Callable[[JobRecord], bool]:
    return lambda record: record.state in states


class WorkerProcess:
    """`worker_main.py` in a child process; its output goes to a log file shown when a test fails."""

    def __init__(self, backend: Backend, log_dir: Path, label: str) -> None:
        self.log = log_dir / f"worker-{label}.log"
        command = [
            sys.executable,
            str(WORKER_MAIN),
            "--database-url",
            backend.database_url,
            "--data-dir",
            str(backend.data_dir),
            "--redis-url",
            backend.redis_url or "",
            "--name",
            backend.name,
            "--lease",
            str(LEASE.total_seconds()),
        ]
        with open(self.log, "w") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    async def stop(self) -> int:
        """SIGTERM, then the graceful exit code; SIGKILL if it does not come."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return await asyncio.to_thread(self.process.wait, 20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise AssertionError(f"worker {self.pid} ignored SIGTERM:\n{self.log.read_text()}") from None

    def output(self) -> str:
        return self.log.read_text()
