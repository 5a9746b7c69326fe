"""Outbound webhooks: a JSON body POSTed once, signed when there is a secret; a failure raises, so the
caller's durable job tries again later."""

from __future__ import annotations

import json
from typing import Any

import httpx

from mediaplane.kit.security import sign_webhook

SIGNATURE_HEADER = "X-Mediaplane-Signature"
TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class WebhookFailed(Exception):
    """The receiver answered something other than 2xx."""


def encode(body: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact JSON."""
    return json.dumps(body, separators=(",", ":")).encode()


def headers_for(data: bytes, secret: str | None, user_agent: str) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": user_agent}
    if secret:
        headers[SIGNATURE_HEADER] = sign_webhook(secret, data)
    return headers


async def post_json(
    url: str,
    body: dict[str, Any],
    *,
    secret: str | None = None,
    user_agent: str = "mediaplane",
    client: httpx.AsyncClient | None = None,
) -> None:
    """POSTs `body` once; raises httpx.HTTPError on a network error and WebhookFailed on a non-2xx answer."""
    data = encode(body)
    headers = headers_for(data, secret, user_agent)
    if client is None:
        async with httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False) as own:
            response = await own.post(url, content=data, headers=headers)
    else:
        response = await client.post(url, content=data, headers=headers)
    if not 200 <= response.status_code < 300:
        raise WebhookFailed(f"{url} answered {response.status_code}")
