"""A meeting's life without media: it ends when nobody joins for eyeson_empty_timeout, a user's activity keeps
it alive, and after the end its access keys and guest token answer 410 and the room id starts a new one."""

from __future__ import annotations

from datetime import timedelta

from mediaplane.kit.clock import FrozenClock
from mediaplane.services.eyeson.background import sweep
from tests.services.eyeson.conftest import Eyeson, error_of


async def test_unattended_meeting_ends_after_the_empty_timeout(eyeson: Eyeson, clock: FrozenClock) -> None:
    timeout = eyeson.runtime.settings.eyeson_empty_timeout
    room = await eyeson.room("Jane", id="lonely")
    clock.advance(timedelta(seconds=timeout - 5))
    assert await sweep(eyeson.runtime) == 0
    await eyeson.ok("GET", f"/rooms/{room['access_key']}")  # a user's call is activity
    clock.advance(timedelta(seconds=timeout - 1))
    assert await sweep(eyeson.runtime) == 0
    clock.advance(timedelta(seconds=2))
    assert await sweep(eyeson.runtime) == 1
    assert error_of(await eyeson.request("GET", f"/rooms/{room['access_key']}"))[0] == 410
    listed = await eyeson.ok("GET", "/rooms", key=eyeson.key)
    assert listed == []
    users = await eyeson.ok("GET", "/rooms/lonely/users", key=eyeson.key)
    assert [u["name"] for u in users] == ["Jane"] and users[0]["online"] is False


async def test_running_meetings_are_listed(eyeson: Eyeson) -> None:
    await eyeson.room("Jane", id="a", name="Room A")
    await eyeson.room("John", id="b")
    listed = await eyeson.ok("GET", "/rooms", key=eyeson.key)
    assert [(r["id"], r["name"], r["shutdown"]) for r in listed] == [("a", "Room A", False), ("b", "b", False)]
    assert all(set(r) == {"id", "name", "ready", "started_at", "shutdown", "guest_token"} for r in listed)


async def test_stop_by_access_key_ends_it_for_everyone(eyeson: Eyeson) -> None:
    jane = await eyeson.room("Jane", id="x")
    john = await eyeson.room("John", id="x")
    r = await eyeson.request("DELETE", f"/rooms/{john['access_key']}")
    assert r.status_code == 204
    assert error_of(await eyeson.request("GET", f"/rooms/{jane['access_key']}"))[0] == 410
