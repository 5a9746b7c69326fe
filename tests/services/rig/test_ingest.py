"""RigIngest against the database, without nginx: admission, heartbeat, end, node reset and output reports."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from mediaplane.core.ingest import Output, OutputState, Publish, Refused, SessionEnd
from mediaplane.core.runtime import Runtime
from mediaplane.kit.clock import FrozenClock
from mediaplane.services.rig.ingest import RigIngest
from mediaplane.services.rig.models import RigStream
from tests.services.rig.conftest import Rig


@pytest.fixture
def ingest() -> RigIngest:
    return RigIngest()


async def live_stream(rig: Rig, token: str) -> dict[str, Any]:
    stream = await rig.new_stream(token)
    await rig.add(token, stream["id"], "YouTube", "yt")
    await rig.add(token, stream["id"], "Twitch", "tw")
    return stream


async def row(runtime: Runtime, stream_id: str) -> RigStream:
    async with runtime.db.session() as session:
        found = await session.get(RigStream, stream_id)
    assert found is not None
    return found


def publish(key: str, client_id: str = "") -> Publish:
    return Publish(app="rig", key=key, addr="127.0.0.1", client_id=client_id)


async def refused(ingest: RigIngest, runtime: Runtime, key: str, client_id: str = "") -> str:
    with pytest.raises(Refused) as caught:
        await ingest.admit(runtime, publish(key, client_id))
    return caught.value.reason


async def test_admit_marks_live_and_names_the_active_destinations(rig: Rig, ingest: RigIngest) -> None:
    token = await rig.signup()
    stream = await live_stream(rig, token)
    destinations = await rig.ok("GET", f"/streams/{stream['id']}/destination", token=token)
    path = f"/streams/{stream['id']}/destination/{destinations[1]['id']}"
    await rig.ok("PATCH", path, token=token, json={"isActive": False})
    admission = await ingest.admit(rig.runtime, publish(stream["streamKey"], "1"))
    assert admission.ref == stream["id"]
    assert admission.outputs == (Output(id=str(destinations[0]["id"]), url="rtmp://a.rtmp.youtube.com/live2/yt"),)
    stored = await row(rig.runtime, stream["id"])
    assert stored.is_streaming and stored.live_client == "1" and stored.live_since == rig.runtime.clock.now()
    assert ingest.app == "rig"


async def test_refusals(rig: Rig, ingest: RigIngest) -> None:
    token = await rig.signup()
    stream = await live_stream(rig, token)
    assert await refused(ingest, rig.runtime, "no-such-key") == "unknown"
    assert await refused(ingest, rig.runtime, "") == "unknown"
    await rig.ok("PATCH", f"/streams/{stream['id']}", token=token, json={"isActive": False})
    assert await refused(ingest, rig.runtime, stream["streamKey"]) == "inactive"
    await rig.ok("PATCH", f"/streams/{stream['id']}", token=token, json={"isActive": True})
    await ingest.admit(rig.runtime, publish(stream["streamKey"], "1"))
    assert await refused(ingest, rig.runtime, stream["streamKey"], "2") == "in_use"
    assert await refused(ingest, rig.runtime, stream["streamKey"]) == "in_use"


async def test_the_same_publish_admitted_twice_is_one_session(rig: Rig, ingest: RigIngest) -> None:
    token = await rig.signup()
    stream = await live_stream(rig, token)
    first = await ingest.admit(rig.runtime, publish(stream["streamKey"], "5"))
    again = await ingest.admit(rig.runtime, publish(stream["streamKey"], "5"))
    assert first == again


async def test_a_stale_heartbeat_lets_a_new_publish_in(rig: Rig, ingest: RigIngest, clock: FrozenClock) -> None:
    token = await rig.signup()
    stream = await live_stream(rig, token)
    key, sid = stream["streamKey"], stream["id"]
    await ingest.admit(rig.runtime, publish(key, "1"))
    clock.advance(timedelta(seconds=50))
    assert await ingest.still_allowed(rig.runtime, key, sid) is True  # the heartbeat moves live_seen_at
    clock.advance(timedelta(seconds=50))
    assert await refused(ingest, rig.runtime, key, "2") == "in_use"
    clock.advance(timedelta(seconds=11))  # 61 s without a heartbeat: the ingest holding it is gone
    admission = await ingest.admit(rig.runtime, publish(key, "2"))
    assert admission.ref == sid
    assert (await row(rig.runtime, sid)).live_client == "2"


async def test_still_allowed(rig: Rig, ingest: RigIngest, clock: FrozenClock) -> None:
    token = await rig.signup()
    stream = await live_stream(rig, token)
    key, sid = stream["streamKey"], stream["id"]
    assert await ingest.still_allowed(rig.runtime, key, sid) is False  # never admitted
    await ingest.admit(rig.runtime, publish(key))
    clock.advance(timedelta(seconds=5))
    assert await ingest.still_allowed(rig.runtime, key, sid) is True
    assert (await row(rig.runtime, sid)).live_seen_at == clock.now()
    assert await ingest.still_allowed(rig.runtime, "other-key", sid) is False
    assert await ingest.still_allowed(rig.runtime, key, "00000000-0000-4000-8000-000000000000") is False
    await rig.ok("PATCH", f"/streams/{sid}", token=token, json={"isActive": False})
    assert await ingest.still_allowed(rig.runtime, key, sid) is False


async def test_ended_marks_offline_once(rig: Rig, ingest: RigIngest) -> None:
    token = await rig.signup()
    stream = await live_stream(rig, token)
    key, sid = stream["streamKey"], stream["id"]
    admission = await ingest.admit(rig.runtime, publish(key))
    state = OutputState(id=admission.outputs[0].id, url=admission.outputs[0].url, status="error", last_error="refused")
    await ingest.output_changed(rig.runtime, sid, state, None)
    for _ in range(2):
        await ingest.ended(rig.runtime, key, sid, SessionEnd("done"))
        stored = await row(rig.runtime, sid)
        assert stored.is_streaming is False and stored.live_since is None
        destinations = await rig.ok("GET", f"/streams/{sid}/destination", token=token)
        assert {(d["status"], d["lastError"]) for d in destinations} == {("idle", None)}
    # A late report after the end changes nothing.
    await ingest.output_changed(rig.runtime, sid, replace(state, status="live"), state)
    assert {d["status"] for d in await rig.ok("GET", f"/streams/{sid}/destination", token=token)} == {"idle"}
    await ingest.admit(rig.runtime, publish(key))  # free again


async def test_ended_of_a_session_held_by_another_node_changes_nothing(
    rig: Rig, ingest: RigIngest, runtime: Runtime
) -> None:
    token = await rig.signup()
    stream = await live_stream(rig, token)
    await ingest.admit(rig.runtime, publish(stream["streamKey"]))
    runtime.settings.ingest_node = "somewhere-else"
    await ingest.ended(runtime, stream["streamKey"], stream["id"], SessionEnd("lost"))
    assert (await row(runtime, stream["id"])).is_streaming is True


async def test_reset_ends_every_session_of_the_node(rig: Rig, ingest: RigIngest, runtime: Runtime) -> None:
    token = await rig.signup()
    runtime.settings.ingest_node = "node-a"
    on_a = [await live_stream(rig, token) for _ in range(2)]
    for stream in on_a:
        await ingest.admit(runtime, publish(stream["streamKey"]))
    runtime.settings.ingest_node = "node-b"
    on_b = await live_stream(rig, token)
    await ingest.admit(runtime, publish(on_b["streamKey"]))
    await ingest.reset(runtime, "node-a")
    assert [(await row(runtime, s["id"])).is_streaming for s in on_a] == [False, False]
    assert (await row(runtime, on_b["id"])).is_streaming is True
    await ingest.reset(runtime, "node-a")  # twice: nothing left to do
    for stream in on_a:
        detail = await rig.ok("GET", f"/streams/{stream['id']}", token=token)
        assert detail["isStreaming"] is False
        assert detail["provisionStatus"]["server"]["hostname"] == "node-a"


async def test_output_changed_is_shown_per_destination(rig: Rig, ingest: RigIngest, clock: FrozenClock) -> None:
    token = await rig.signup()
    stream = await live_stream(rig, token)
    key, sid = stream["streamKey"], stream["id"]
    admission = await ingest.admit(rig.runtime, publish(key))
    youtube, twitch = admission.outputs
    connecting = OutputState(id=youtube.id, url=youtube.url, status="connecting")
    await ingest.output_changed(rig.runtime, sid, connecting, None)
    clock.advance(timedelta(seconds=3))
    failing = OutputState(id=twitch.id, url=twitch.url, status="error", last_error="Connection refused", reconnects=3)
    await ingest.output_changed(rig.runtime, sid, failing, None)
    changed_at = clock.now()
    clock.advance(timedelta(seconds=3))
    # A bitrate update without a status change keeps statusChangedAt.
    await ingest.output_changed(rig.runtime, sid, replace(failing, bitrate_kbps=0.5), failing)
    await ingest.output_changed(rig.runtime, sid, OutputState(id="not-a-number", url="x", status="live"), None)
    await ingest.output_changed(rig.runtime, sid, OutputState(id="999999", url="x", status="live"), None)
    detail = await rig.ok("GET", f"/streams/{sid}", token=token)
    shown = {d["service"]: d for d in detail["destinations"]}
    assert shown["YouTube"]["status"] == "connecting"
    assert (shown["Twitch"]["status"], shown["Twitch"]["lastError"], shown["Twitch"]["reconnects"]) == (
        "error",
        "Connection refused",
        3,
    )
    assert shown["Twitch"]["bitrateKbps"] == 0.5
    assert shown["Twitch"]["statusChangedAt"] == changed_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def test_a_slow_heartbeat_setting_widens_the_window(
    rig: Rig, ingest: RigIngest, runtime: Runtime, clock: FrozenClock
) -> None:
    runtime.settings.rtmp_heartbeat_seconds = 40  # three heartbeats: 120 s
    token = await rig.signup()
    stream = await live_stream(rig, token)
    await ingest.admit(runtime, publish(stream["streamKey"], "1"))
    clock.advance(timedelta(seconds=119))
    assert (await rig.ok("GET", f"/streams/{stream['id']}", token=token))["isStreaming"] is True
    assert await refused(ingest, runtime, stream["streamKey"], "2") == "in_use"
    clock.advance(timedelta(seconds=2))
    assert (await rig.ok("GET", f"/streams/{stream['id']}", token=token))["isStreaming"] is False
    await ingest.admit(runtime, publish(stream["streamKey"], "2"))
