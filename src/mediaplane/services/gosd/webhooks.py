"""Signed webhooks of a gosd instance: a job's state changes and nodes going online or offline.

gosd itself has none (it publishes retained MQTT topics). Events are queued as durable jobs in the
transaction that changes the state, so one goes out only when the change is stored, and a receiver that is
down gets it later (retried with backoff).
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.jobs import JobContext, job
from mediaplane.kit.webhooks import post_json
from mediaplane.services.gosd.options import GosdOptions

WEBHOOK_JOB = "gosd.webhook"
EventType = Literal[
    "job.queued", "job.running", "job.succeeded", "job.failed", "job.cancelled", "node.online", "node.offline"
]


async def emit(
    session: AsyncSession, runtime: Runtime, instance: Instance, type_: EventType, **parts: dict[str, Any]
) -> None:
    """Queues the event (`parts` such as `job=…`, `node=…`) in the caller's transaction, when there is a URL."""
    if GosdOptions.of(instance.options).webhook_url is None:
        return
    body: dict[str, Any] = {
        "type": type_,
        "created_at": runtime.clock.now().isoformat().replace("+00:00", "Z"),
        "instance": instance.name,
        **parts,
    }
    await runtime.jobs.enqueue(session, WEBHOOK_JOB, {"instance_id": instance.id, "body": body}, scope=instance.id)


@job(WEBHOOK_JOB, max_attempts=8)
async def deliver_webhook(ctx: JobContext, *, instance_id: str, body: dict[str, Any]) -> None:
    """Sends one event with the instance's URL and secret as they are now (an instance gone: nothing)."""
    async with ctx.db.session() as session:
        instance = await session.get(Instance, instance_id)
    if instance is None:
        return
    options = GosdOptions.of(instance.options)
    if options.webhook_url is None:
        return
    await post_json(options.webhook_url, body, secret=options.webhook_secret, user_agent="mediaplane-gosd")
