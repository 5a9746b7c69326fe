"""Durable platform jobs about instances."""

from __future__ import annotations

from typing import Any

from mediaplane.kit.jobs import JobContext, job

PURGE_JOB = "core.instance_purge"


@job(PURGE_JOB, max_attempts=5)
async def purge_instance_files(ctx: JobContext, *, prefix: str) -> dict[str, Any]:
    """Removes a deleted instance's files; retried until storage answers."""
    from mediaplane.core.runtime import Runtime

    runtime = ctx.resources
    assert isinstance(runtime, Runtime)
    removed = await runtime.storage.delete_prefix(prefix)
    return {"removed": removed}
