"""gosd's side of the ingest (GosdIngest), called as the ingest calls it: who may publish a point, one claim per
point, the heartbeat's checks, and the end of a session."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from mediaplane.core.ingest import Publish, Refused, SessionEnd
from mediaplane.kit.clock import FrozenClock
from mediaplane.services.gosd.ingest import GosdIngest
from tests.services.gosd.conftest import Gosd

INGEST = GosdIngest()


async def live_node(gosd: Gosd) -> tuple[dict[str, Any], str]:
    body = {
        "name": "Drone",
        "type_name": "air",
        "points": [{"name": "aa", "type": "livestream_flv"}, {"name": "m", "type": "map"}],
    }
    node = await gosd.ok("POST", "/api/v1/nodes/", 201, json=body)
    secret = (await gosd.ok("POST", f"/api/v1/nodes/{node['id']}/secret"))["secret"]
    return node, secret


def publish(point_id: int | str, secret: str | None) -> Publish:
    return Publish(app="gosd", key=str(point_id), client_id="1", args={"secret": secret} if secret else {})


async def live_flags(gosd: Gosd, node_id: int) -> list[bool]:
    return [p["live"] for p in (await gosd.ok("GET", f"/api/v1/nodes/{node_id}"))["points"]]


async def test_the_node_secret_lets_a_live_point_in(gosd: Gosd) -> None:
    node, secret = await live_node(gosd)
    flv, other = node["points"]
    admission = await INGEST.admit(gosd.runtime, publish(flv["id"], secret))
    assert admission.ref.startswith(f"{flv['id']}:") and secret not in admission.ref
    assert admission.outputs == ()
    assert await live_flags(gosd, node["id"]) == [True, False]
    for wrong, reason in (
        (publish(other["id"], secret), "invalid"),  # a map point takes no video
        (publish(flv["id"], "x" * 32), "invalid"),
        (publish(flv["id"], None), "invalid"),
        (publish(10**9, secret), "unknown"),
        (publish("../1", secret), "unknown"),
    ):
        with pytest.raises(Refused) as refused:
            await INGEST.admit(gosd.runtime, wrong)
        assert refused.value.reason == reason, wrong


async def test_one_claim_per_point_until_its_heartbeat_is_stale(
    gosd: Gosd, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    node, secret = await live_node(gosd)
    key = str(node["points"][0]["id"])
    settings = gosd.runtime.settings
    monkeypatch.setattr(settings, "ingest_node", "node-a")
    first = (await INGEST.admit(gosd.runtime, publish(key, secret))).ref
    monkeypatch.setattr(settings, "ingest_node", "node-b")
    with pytest.raises(Refused) as refused:
        await INGEST.admit(gosd.runtime, publish(key, secret))
    assert refused.value.reason == "in_use"

    clock.advance(timedelta(seconds=61))  # node-a's ingest went silent
    assert await live_flags(gosd, node["id"]) == [False, False]
    second = (await INGEST.admit(gosd.runtime, publish(key, secret))).ref
    monkeypatch.setattr(settings, "ingest_node", "node-a")
    assert not await INGEST.still_allowed(gosd.runtime, key, first)  # node-a's session is not the claim now
    await INGEST.ended(gosd.runtime, key, first, SessionEnd("done"))
    await INGEST.reset(gosd.runtime, "node-a")
    assert await live_flags(gosd, node["id"]) == [True, False]  # still node-b's

    monkeypatch.setattr(settings, "ingest_node", "node-b")
    clock.advance(timedelta(seconds=50))
    assert await INGEST.still_allowed(gosd.runtime, key, second)  # the heartbeat keeps it live
    clock.advance(timedelta(seconds=50))
    assert await live_flags(gosd, node["id"]) == [True, False]
    await INGEST.ended(gosd.runtime, key, second, SessionEnd("done"))
    assert await live_flags(gosd, node["id"]) == [False, False]


async def test_the_heartbeat_drops_a_changed_secret_or_type(gosd: Gosd) -> None:
    node, secret = await live_node(gosd)
    flv, other = node["points"]
    key = str(flv["id"])
    ref = (await INGEST.admit(gosd.runtime, publish(key, secret))).ref
    assert await INGEST.still_allowed(gosd.runtime, key, ref)
    secret = (await gosd.ok("POST", f"/api/v1/nodes/{node['id']}/secret"))["secret"]
    assert not await INGEST.still_allowed(gosd.runtime, key, ref)
    await INGEST.ended(gosd.runtime, key, ref, SessionEnd("dropped"))

    ref = (await INGEST.admit(gosd.runtime, publish(key, secret))).ref
    body = {"name": "Drone", "type_name": "air", "points": [{"id": flv["id"], "name": "aa", "type": "map"}, other]}
    await gosd.ok("PUT", f"/api/v1/nodes/{node['id']}", json=body)
    assert not await INGEST.still_allowed(gosd.runtime, key, ref)


async def test_a_restarted_ingest_forgets_its_sessions(gosd: Gosd, monkeypatch: pytest.MonkeyPatch) -> None:
    node, secret = await live_node(gosd)
    monkeypatch.setattr(gosd.runtime.settings, "ingest_node", "node-a")
    await INGEST.admit(gosd.runtime, publish(node["points"][0]["id"], secret))
    await INGEST.reset(gosd.runtime, "node-b")
    assert await live_flags(gosd, node["id"]) == [True, False]
    await INGEST.reset(gosd.runtime, "node-a")
    assert await live_flags(gosd, node["id"]) == [False, False]


async def test_a_deleted_node_drops_its_publishers(gosd: Gosd) -> None:
    node, secret = await live_node(gosd)
    key = str(node["points"][0]["id"])
    ref = (await INGEST.admit(gosd.runtime, publish(key, secret))).ref
    await gosd.ok("DELETE", f"/api/v1/nodes/{node['id']}")
    assert not await INGEST.still_allowed(gosd.runtime, key, ref)
    await INGEST.ended(gosd.runtime, key, ref, SessionEnd("dropped"))  # nothing left to mark
