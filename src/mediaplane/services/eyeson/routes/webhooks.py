"""The team's webhook: register (a new one replaces the old, as eyeson), show with its last delivery, remove."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from mediaplane.core.deps import SessionDep
from mediaplane.kit.railsparams import as_list
from mediaplane.services.eyeson.deps import ApiKeyInstance, Params
from mediaplane.services.eyeson.errors import bad_request, not_found
from mediaplane.services.eyeson.keys import object_id
from mediaplane.services.eyeson.models import EyesonWebhook
from mediaplane.services.eyeson.repository import EyesonRepository
from mediaplane.services.eyeson.views import iso
from mediaplane.services.eyeson.webhooks import TYPES

router = APIRouter()


def webhook_body(hook: EyesonWebhook) -> dict[str, Any]:
    return {
        "id": hook.id,
        "url": hook.url,
        # As the spec shows it: the types comma-separated, as they were registered.
        "types": ",".join(hook.types),
        "last_request_sent_at": iso(hook.last_request_sent_at),
        "last_response_code": hook.last_response_code,
    }


def parse_types(value: Any) -> list[str]:
    types = [str(t).strip() for t in as_list(value) if str(t).strip()] if value not in (None, "") else []
    if not types:
        raise bad_request("types is required: room_update, recording_update (comma separated)")
    unknown = sorted(set(types) - set(TYPES))
    if unknown:
        raise bad_request(f"unknown webhook types: {', '.join(unknown)}")
    return list(dict.fromkeys(types))


@router.post("/webhooks", status_code=201, summary="Register the team's webhook (replaces the one there was)")
async def register(instance: ApiKeyInstance, session: SessionDep, params: Params) -> dict[str, Any]:
    url = params.get("url")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")) or len(url) > 2048 or " " in url:
        raise bad_request("url is required: an http(s) URL")
    types = parse_types(params.get("types"))
    repo = EyesonRepository(session, instance.id)
    old = await repo.webhook()
    if old is not None:
        await session.delete(old)
        await session.flush()
    hook = EyesonWebhook(id=object_id(), instance_id=instance.id, url=url, types=types)
    session.add(hook)
    await session.flush()
    return webhook_body(hook)


@router.get("/webhooks", summary="The team's webhook and its last delivery (null when none)")
async def show(instance: ApiKeyInstance, session: SessionDep) -> dict[str, Any] | None:
    hook = await EyesonRepository(session, instance.id).webhook()
    return None if hook is None else webhook_body(hook)


@router.delete("/webhooks/{webhook_id}", status_code=204, summary="Remove the webhook")
async def remove(webhook_id: str, instance: ApiKeyInstance, session: SessionDep) -> Response:
    hook = await EyesonRepository(session, instance.id).webhook()
    if hook is None or hook.id != webhook_id:
        raise not_found("unknown webhook")
    await session.delete(hook)
    return Response(status_code=204)
