"""Progress callbacks: Encore's `JobProgress` body, signed when the instance has a secret, retried with backoff.

Encore sends them once and forgets them; here a failed delivery becomes a durable job that tries again.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.jobs import JobContext, job
from mediaplane.kit.webhooks import WebhookFailed, post_json
from mediaplane.services.encore.options import EncoreOptions
from mediaplane.services.encore.schemas.job import EncoreJob

log = logging.getLogger(__name__)
CALLBACK_JOB = "encore.callback"


def progress_body(job: EncoreJob) -> dict[str, Any]:
    return {"jobId": str(job.id), "externalId": job.external_id, "progress": job.progress, "status": job.status.value}


async def deliver(url: str, body: dict[str, Any], secret: str | None, client: httpx.AsyncClient | None = None) -> None:
    """POSTs the body once; raises on a network error or a non-2xx answer."""
    await post_json(url, body, secret=secret, user_agent="mediaplane-encore", client=client)


async def enqueue(session: AsyncSession, runtime: Runtime, instance: Instance, encore_job: EncoreJob) -> None:
    """Queues a delivery of the job's current progress (when it has a callback URI)."""
    if not encore_job.progress_callback_uri:
        return
    args = {"instance_id": instance.id, "url": encore_job.progress_callback_uri, "body": progress_body(encore_job)}
    await runtime.jobs.enqueue(session, CALLBACK_JOB, args, priority=100, scope=instance.id)


async def deliver_quietly(encore_job: EncoreJob, secret: str | None) -> None:
    """A progress callback while running: one try; the next one is only seconds away."""
    if not encore_job.progress_callback_uri:
        return
    try:
        await deliver(encore_job.progress_callback_uri, progress_body(encore_job), secret)
    except (httpx.HTTPError, WebhookFailed) as exc:
        log.info("progress callback to %s failed: %s", encore_job.progress_callback_uri, exc)


async def send_or_enqueue(ctx: JobContext, instance: Instance, encore_job: EncoreJob) -> None:
    """From a worker: deliver now; a failure becomes a queued delivery with retries."""
    url = encore_job.progress_callback_uri
    if not url:
        return
    body = progress_body(encore_job)
    try:
        await deliver(url, body, EncoreOptions.of(instance.options).callback_secret)
    except (httpx.HTTPError, WebhookFailed) as exc:
        log.info("callback to %s failed (%s); retrying later", url, exc)
        runtime: Runtime = ctx.resources
        async with ctx.db.session() as session:
            args = {"instance_id": instance.id, "url": url, "body": body}
            await runtime.jobs.enqueue(session, CALLBACK_JOB, args, priority=100, scope=instance.id, delay=1.0)


@job(CALLBACK_JOB, max_attempts=8)
async def deliver_callback(ctx: JobContext, *, instance_id: str, url: str, body: dict[str, Any]) -> None:
    async with ctx.db.session() as session:
        instance = await session.get(Instance, instance_id)
    if instance is None:
        return
    await deliver(url, body, EncoreOptions.of(instance.options).callback_secret)
