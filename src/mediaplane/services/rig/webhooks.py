"""Signed webhooks of a rig instance: stream.live, stream.offline, destination.error, destination.recovered.

Events are queued as durable jobs in the transaction that changes the state, so they go out only when the
change is stored, and a receiver that is down gets them later (retried with backoff).
"""

from __future__ import annotations

import logging
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.jobs import JobContext, job
from mediaplane.kit.webhooks import post_json
from mediaplane.services.rig import schemas
from mediaplane.services.rig.models import RigDestination, RigStream
from mediaplane.services.rig.options import RigOptions
from mediaplane.services.rig.schemas import rfc3339

log = logging.getLogger(__name__)
WEBHOOK_JOB = "rig.webhook"
EventType = Literal["stream.live", "stream.offline", "destination.error", "destination.recovered"]


def stream_part(stream: RigStream, **extra: Any) -> dict[str, Any]:
    # No stream keys: they are publishing credentials, and webhook bodies end up in logs.
    return {
        "id": stream.id,
        "userID": stream.account_id,
        "isActive": stream.is_active,
        "isStreaming": stream.is_streaming,
        "liveSince": rfc3339(stream.live_since),
        "node": stream.live_node,
        **extra,
    }


def destination_part(row: RigDestination) -> dict[str, Any]:
    """The API's destination without its key and URL (credentials, as above)."""
    return {k: v for k, v in schemas.destination(row).items() if k not in ("streamKey", "rtmpUrl")}


async def emit(
    session: AsyncSession,
    runtime: Runtime,
    instance: Instance,
    type_: EventType,
    stream: RigStream,
    destination: RigDestination | None = None,
    **stream_extra: Any,
) -> None:
    """Queues the event in the caller's transaction, when the instance has a webhook URL."""
    if RigOptions.of(instance.options).webhook_url is None:
        return
    body: dict[str, Any] = {
        "type": type_,
        "createdAt": rfc3339(runtime.clock.now()),
        "instance": instance.name,
        "stream": stream_part(stream, **stream_extra),
    }
    if destination is not None:
        body["destination"] = destination_part(destination)
    await runtime.jobs.enqueue(session, WEBHOOK_JOB, {"instance_id": instance.id, "body": body}, scope=instance.id)


@job(WEBHOOK_JOB, max_attempts=8)
async def deliver_webhook(ctx: JobContext, *, instance_id: str, body: dict[str, Any]) -> None:
    """Sends one event with the instance's URL and secret as they are now (an instance gone: nothing)."""
    async with ctx.db.session() as session:
        instance = await session.get(Instance, instance_id)
    if instance is None:
        return
    options = RigOptions.of(instance.options)
    if options.webhook_url is None:
        return
    await post_json(options.webhook_url, body, secret=options.webhook_secret, user_agent="mediaplane-rig")
