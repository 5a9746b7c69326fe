"""The team's webhook: registration rules, room_update deliveries signed byte-compatibly with eyeson
(X-Eyeson-Signature), retries when the receiver fails, and the last delivery kept for GET /webhooks."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from pathlib import Path

import pytest

from mediaplane.config import Settings
from mediaplane.kit.clock import Clock
from mediaplane.services.eyeson.webhooks import signature
from tests.fixtures.receiver import Receiver, webhook_receiver
from tests.services.eyeson.conftest import Eyeson, error_of, eyeson_settings


@pytest.fixture
def clock() -> Clock:
    return Clock()  # retried deliveries wait for real time


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return eyeson_settings(tmp_path, database_url, job_retry_delay=0.2)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver(status=204) as made:
        yield made


def test_signature_matches_eyesons_test_vector() -> None:
    body = b'{"timestamp":1609493400,"type":"room_update","room":{"id":"demo","shutdown":true}}'
    assert signature("test-api-key", body) == "c1d8d66339e4fc1be7a13fdb4cf5942648bc9b8325260c0d3ba68230aafdc07a"


async def test_room_updates_are_signed_retried_and_recorded(eyeson: Eyeson, receiver: Receiver) -> None:
    eyeson.runtime.jobs.start_workers(1)
    await eyeson.ok("POST", "/webhooks", 201, key=eyeson.key, data={"url": receiver.url, "types": "room_update"})
    receiver.refuse = 1
    room = await eyeson.room("Jane", id="hooked")
    r = await eyeson.request("DELETE", "/rooms/hooked", key=eyeson.key)
    assert r.status_code == 204
    bodies = await receiver.wait_for_count(2)
    assert receiver.attempts == 3
    for raw, headers in zip(receiver.raw, receiver.headers, strict=True):
        sig = headers["x-eyeson-signature"]
        assert hmac.compare_digest(sig, hmac.new(eyeson.key.encode(), raw, hashlib.sha256).hexdigest())
    assert [b["type"] for b in bodies] == ["room_update", "room_update"]
    # The refused first event comes after the second one (a retry); eyeson's receivers sort by timestamp.
    bodies.sort(key=lambda b: b["room"]["shutdown"])
    assert bodies[0]["room"]["id"] == "hooked" and bodies[0]["room"]["shutdown"] is False
    assert bodies[1]["room"]["shutdown"] is True and isinstance(bodies[1]["timestamp"], int)
    assert bodies[0]["room"]["guest_token"] == room["room"]["guest_token"]
    shown = await eyeson.ok("GET", "/webhooks", key=eyeson.key)
    assert shown["last_response_code"] == "204" and shown["last_request_sent_at"].endswith("Z")


async def test_types_as_list_or_array_and_replacement(eyeson: Eyeson) -> None:
    first = await eyeson.ok(
        "POST", "/webhooks", 201, key=eyeson.key, data={"url": "https://a.example/h", "types[]": ["room_update"]}
    )
    second = await eyeson.ok(
        "POST",
        "/webhooks",
        201,
        key=eyeson.key,
        json={"url": "https://b.example/h", "types": ["room_update", "recording_update"]},
    )
    assert first["id"] != second["id"]
    shown = await eyeson.ok("GET", "/webhooks", key=eyeson.key)
    assert shown["url"] == "https://b.example/h" and shown["types"] == "room_update,recording_update"
    r = await eyeson.request("DELETE", f"/webhooks/{first['id']}", key=eyeson.key)
    assert error_of(r)[0] == 404


@pytest.mark.parametrize(
    "data",
    [
        {"types": "room_update"},
        {"url": "ftp://x.example/", "types": "room_update"},
        {"url": "https://x.example/"},
        {"url": "https://x.example/", "types": "everything"},
    ],
)
async def test_bad_registrations_are_400(eyeson: Eyeson, data: dict[str, str]) -> None:
    r = await eyeson.request("POST", "/webhooks", key=eyeson.key, data=data)
    assert error_of(r)[0] == 400


async def test_webhooks_need_the_api_key(eyeson: Eyeson) -> None:
    for method, path in (("GET", "/webhooks"), ("POST", "/webhooks"), ("DELETE", "/webhooks/x")):
        assert error_of(await eyeson.request(method, path))[0] == 401
        assert error_of(await eyeson.request(method, path, key="not-the-key"))[0] == 401
