"""Signed webhooks delivered by durable jobs to a real HTTP receiver on 127.0.0.1, with a retry."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from mediaplane.config import Settings
from mediaplane.core.ingest import OutputState, Publish, SessionEnd
from mediaplane.core.runtime import Runtime
from mediaplane.kit.clock import Clock
from mediaplane.kit.jobs import JobRecord
from mediaplane.kit.security import verify_webhook
from mediaplane.services.rig.ingest import RigIngest
from tests.conftest import make_settings
from tests.fixtures.factories import Factory
from tests.fixtures.servers import serve_in_thread
from tests.services.rig.conftest import Rig, make_rig

SECRET = "rig-webhook-secret-42"


@pytest.fixture
def clock() -> Clock:
    return Clock()  # retried deliveries wait for real time


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url, job_retry_delay=0.2)


@dataclass
class Receiver:
    url: str
    raw: list[bytes] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    refuse: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def bodies(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(raw) for raw in self.raw]

    async def wait_for(self, types: list[str], within: float = 30) -> list[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while [b["type"] for b in self.bodies()] != types:
            if loop.time() > deadline:
                raise AssertionError(f"received {[b['type'] for b in self.bodies()]}, expected {types}")
            await asyncio.sleep(0.05)
        return self.bodies()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: dict[str, Receiver] = {}

    async def hook(request: Request) -> Response:
        got = box["receiver"]
        with got.lock:
            if got.refuse > 0:
                got.refuse -= 1
                return PlainTextResponse("busy", status_code=503)
            got.raw.append(await request.body())
            got.headers.append(dict(request.headers))
        return JSONResponse({"ok": True})

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/health", health), Route("/hook", hook, methods=["POST"])])
    with serve_in_thread(app) as url:
        box["receiver"] = Receiver(f"{url}/hook")
        yield box["receiver"]


@pytest.fixture
async def hooked(factory: Factory, client: httpx.AsyncClient, runtime: Runtime, receiver: Receiver) -> Rig:
    runtime.jobs.start_workers(1)
    return await make_rig(factory, client, runtime, name="hooked", webhookUrl=receiver.url, webhookSecret=SECRET)


async def test_stream_and_destination_events_are_signed_and_delivered(hooked: Rig, receiver: Receiver) -> None:
    token = await hooked.signup()
    stream = await hooked.new_stream(token)
    sid, key = stream["id"], stream["streamKey"]
    dest = await hooked.add(token, sid, "Twitch", "tw")
    ingest, runtime = RigIngest(), hooked.runtime

    receiver.refuse = 1  # the first delivery is refused and must come again
    admission = await ingest.admit(runtime, Publish(app="rig", key=key))
    await receiver.wait_for(["stream.live"])
    output = admission.outputs[0]
    error = OutputState(id=output.id, url=output.url, status="error", last_error="Connection refused")
    await ingest.output_changed(runtime, sid, error, None)
    await receiver.wait_for(["stream.live", "destination.error"])
    connecting = OutputState(id=output.id, url=output.url, status="connecting", reconnects=1)
    await ingest.output_changed(runtime, sid, connecting, error)
    live = OutputState(id=output.id, url=output.url, status="live", reconnects=1, bitrate_kbps=3000)
    await ingest.output_changed(runtime, sid, live, connecting)
    await ingest.output_changed(runtime, sid, live, live)  # a bitrate update: no event
    await ingest.ended(runtime, key, sid, SessionEnd("done"))
    bodies = await receiver.wait_for(["stream.live", "destination.error", "destination.recovered", "stream.offline"])
    assert receiver.refuse == 0

    for raw, headers in zip(receiver.raw, receiver.headers, strict=True):
        assert verify_webhook(SECRET, raw, headers["x-mediaplane-signature"])
        assert headers["content-type"] == "application/json"
    went_live, failed, recovered, offline = bodies
    assert went_live["instance"] == "hooked"
    assert went_live["stream"]["id"] == sid and went_live["stream"]["isStreaming"] is True
    assert "destination" not in went_live and key not in receiver.raw[0].decode()
    assert datetime.fromisoformat(went_live["createdAt"].replace("Z", "+00:00"))
    assert failed["destination"]["id"] == dest["id"]
    assert (failed["destination"]["status"], failed["destination"]["lastError"]) == ("error", "Connection refused")
    assert recovered["destination"]["status"] == "live" and recovered["destination"]["reconnects"] == 1
    assert offline["stream"]["isStreaming"] is False and offline["stream"]["reason"] == "done"


async def test_change_key_while_live_sends_stream_offline(hooked: Rig, receiver: Receiver) -> None:
    token = await hooked.signup()
    stream = await hooked.new_stream(token)
    await RigIngest().admit(hooked.runtime, Publish(app="rig", key=stream["streamKey"]))
    await hooked.ok("POST", f"/streams/{stream['id']}/changeKey", token=token)
    bodies = await receiver.wait_for(["stream.live", "stream.offline"])
    assert bodies[1]["stream"]["reason"] == "key_changed"


async def test_no_webhook_url_no_jobs(rig: Rig, runtime: Runtime) -> None:
    token = await rig.signup()
    stream = await rig.new_stream(token)
    await RigIngest().admit(runtime, Publish(app="rig", key=stream["streamKey"]))
    async with runtime.db.session() as session:
        count = await session.scalar(select(func.count()).select_from(JobRecord).where(JobRecord.name == "rig.webhook"))
    assert count == 0
