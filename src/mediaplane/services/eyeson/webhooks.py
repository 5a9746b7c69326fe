"""The team's webhook: room_update and recording_update POSTed as JSON, signed as eyeson signs them
(`X-Eyeson-Signature`: lowercase hex HMAC-SHA256 of the body, keyed by the API key).

Events are durable jobs queued in the transaction that changes the state; a receiver that is down gets them
later, retried with backoff. Each attempt's time and status are kept for GET /webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.clock import utcnow
from mediaplane.kit.jobs import JobContext, job
from mediaplane.kit.webhooks import TIMEOUT, WebhookFailed
from mediaplane.services.eyeson.models import EyesonWebhook
from mediaplane.services.eyeson.options import EyesonOptions
from mediaplane.services.eyeson.repository import EyesonRepository

WEBHOOK_JOB = "eyeson.webhook"
TYPES = ("room_update", "recording_update", "snapshot_update", "participant_update")
SIGNATURE_HEADER = "X-Eyeson-Signature"


def signature(api_key: str, body: bytes) -> str:
    return hmac.new(api_key.encode(), body, hashlib.sha256).hexdigest()


async def emit(session: AsyncSession, runtime: Runtime, instance: Instance, type_: str, **parts: Any) -> None:
    """Queues the event when the team's webhook asks for its type."""
    hook = await EyesonRepository(session, instance.id).webhook()
    if hook is None or type_ not in hook.types:
        return
    body = {"timestamp": int(runtime.clock.now().timestamp()), "type": type_, **parts}
    payload = {"instance_id": instance.id, "webhook_id": hook.id, "body": body}
    await runtime.jobs.enqueue(session, WEBHOOK_JOB, payload, scope=instance.id)


@job(WEBHOOK_JOB, max_attempts=8)
async def deliver_webhook(ctx: JobContext, *, instance_id: str, webhook_id: str, body: dict[str, Any]) -> None:
    """Sends one event to the webhook as it is now (gone or replaced: nothing), signed with the key as it is now."""
    async with ctx.db.session() as session:
        instance = await session.get(Instance, instance_id)
        hook = await session.get(EyesonWebhook, webhook_id)
        if instance is None or hook is None or hook.instance_id != instance_id:
            return
        url, key = hook.url, EyesonOptions.of(instance.options).api_key
    data = json.dumps(body, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mediaplane-eyeson",
        SIGNATURE_HEADER: signature(key, data),
    }
    code = "000"
    try:
        async with httpx.AsyncClient(timeout=TIMEOUT) as client:
            response = await client.post(url, content=data, headers=headers)
        code = str(response.status_code)
    finally:
        async with ctx.db.session() as session:
            hook = await session.get(EyesonWebhook, webhook_id)
            if hook is not None:
                hook.last_request_sent_at = utcnow()
                hook.last_response_code = code
    if not code.startswith("2"):
        raise WebhookFailed(f"{url} answered {code}")
