"""Signed webhooks delivered by durable jobs to a real HTTP receiver on 127.0.0.1, with a retry."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from mediaplane.config import Settings
from mediaplane.core.ingest import OutputState, Publish, SessionEnd
from mediaplane.core.runtime import Runtime
from mediaplane.kit.clock import Clock
from mediaplane.kit.jobs import JobRecord
from mediaplane.kit.security import verify_webhook
from mediaplane.services.rig.ingest import RigIngest
from tests.conftest import make_settings
from tests.fixtures.factories import Factory
from tests.fixtures.receiver import Receiver, webhook_receiver
from tests.services.rig.conftest import Rig, make_rig

SECRET = "rig-webhook-secret-42"


@pytest.fixture
def clock() -> Clock:
    return Clock()  # retried deliveries wait for real time


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url, job_retry_delay=0.2)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as made:
        yield made


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
