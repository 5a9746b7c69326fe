"""What a running job is handed: who it is, its arguments, its own database, progress and cancel."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable
from typing import Any

from mediaplane.kit.db import Database
from mediaplane.kit.jobs.errors import JobCancelled

ProgressSink = Callable[[float, dict[str, Any]], Awaitable[None]]


class JobContext:
    """The first argument of every job function.

    - `job_id`, `name`, `attempt` (1 on the first run), `max_attempts`, `args`;
    - `db`: this worker's `Database` (bound to the worker's event loop): open sessions with
      `async with ctx.db.session() as session`;
    - `resources`: the object the queue was built with (the runtime). Loop-bound things in it, such as
      the runtime's own database or event bus, belong to another event loop: use `ctx.db` instead;
    - `cancelled`: an `asyncio.Event` set once a cancel was requested. The job is also interrupted with
      `JobCancelled` at its next `await` (clean up in `except`/`finally`, then let it propagate).
    """

    def __init__(
        self,
        *,
        job_id: str,
        name: str,
        attempt: int,
        max_attempts: int,
        args: dict[str, Any],
        resources: Any,
        db: Database,
        cancelled: asyncio.Event,
        progress_sink: ProgressSink,
    ) -> None:
        self.job_id = job_id
        self.name = name
        self.attempt = attempt
        self.max_attempts = max_attempts
        self.args = args
        self.resources = resources
        self.db = db
        self.cancelled = cancelled
        self._progress_sink = progress_sink

    async def progress(self, percent: float, **info: Any) -> None:
        """Records progress (0-100) and optional JSON details; writes are throttled, the last one wins."""
        value = float(percent)
        if math.isnan(value):
            raise ValueError("progress must be a number")
        await self._progress_sink(min(max(value, 0.0), 100.0), info)

    async def check_cancelled(self) -> None:
        """Raises `JobCancelled` if a cancel was requested; also lets a busy loop yield to the event loop."""
        await asyncio.sleep(0)
        if self.cancelled.is_set():
            raise JobCancelled(f"job {self.job_id} was cancelled")

    def __repr__(self) -> str:
        return f"<JobContext {self.name} {self.job_id} attempt {self.attempt}/{self.max_attempts}>"
