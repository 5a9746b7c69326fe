"""kit.webhooks: the exact bytes are signed and sent; a non-2xx answer raises."""

from __future__ import annotations

import httpx
import pytest

from mediaplane.kit.security import verify_webhook
from mediaplane.kit.webhooks import SIGNATURE_HEADER, WebhookFailed, post_json

BODY = {"type": "stream.live", "n": 1, "text": "é"}


def capture(status: int, seen: list[httpx.Request]) -> httpx.AsyncClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status)

    return httpx.AsyncClient(transport=httpx.MockTransport(handle))


async def test_signed_compact_json() -> None:
    seen: list[httpx.Request] = []
    async with capture(204, seen) as client:
        await post_json("http://receiver/hook", BODY, secret="s3cret", user_agent="test-agent", client=client)
    (request,) = seen
    assert request.method == "POST"
    assert request.content == b'{"type":"stream.live","n":1,"text":"\\u00e9"}'
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"] == "test-agent"
    assert verify_webhook("s3cret", request.content, request.headers[SIGNATURE_HEADER])
    assert not verify_webhook("other", request.content, request.headers[SIGNATURE_HEADER])


async def test_no_secret_no_signature() -> None:
    seen: list[httpx.Request] = []
    async with capture(200, seen) as client:
        await post_json("http://receiver/hook", BODY, client=client)
    assert SIGNATURE_HEADER.lower() not in {k.lower() for k in seen[0].headers}


@pytest.mark.parametrize("status", [301, 400, 500, 503])
async def test_anything_but_2xx_raises(status: int) -> None:
    async with capture(status, []) as client:
        with pytest.raises(WebhookFailed, match=str(status)):
            await post_json("http://receiver/hook", BODY, client=client)
