"""Durable jobs: `@job` functions, enqueued in a transaction and run by workers after it commits.

```python
from mediaplane.kit.jobs import JobContext, job

@job("core.purge", max_attempts=3)
async def purge(ctx: JobContext, *, prefix: str) -> dict | None: ...

record = await runtime.jobs.enqueue(session, "core.purge", {"prefix": "x"}, priority=0, scope=owner_id)
```

The `jobs` table is the truth (state, attempts, lease, progress, result); huey only carries job ids to the
workers (SQLite file embedded, Redis when configured). See docs/architecture.md, "Jobs".
"""

from mediaplane.kit.jobs.context import JobContext
from mediaplane.kit.jobs.errors import JobCancelled, JobDeferred, JobError, UnknownJobError
from mediaplane.kit.jobs.models import JOB_STATES, TERMINAL_STATES, JobRecord
from mediaplane.kit.jobs.queue import JobQueue, create_job_queue
from mediaplane.kit.jobs.registry import JobDefinition, JobRegistry, job, registered_jobs

__all__ = [
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
