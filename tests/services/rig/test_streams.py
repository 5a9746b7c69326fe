"""Streams and destinations: ownership, isolation, the extensions, Custom destinations and the live fields."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from mediaplane.core.ingest import OutputState, Publish, SessionEnd, node_name
from mediaplane.core.ingest.control import CHANNEL
from mediaplane.kit.clock import FrozenClock
from mediaplane.services.rig.ingest import RigIngest
from mediaplane.services.rig.models import RigAccount, RigDestination, RigStream
from tests.services.rig.conftest import Rig, error_of, make_rig


async def control_messages(rig: Rig, action: Any, count: int = 1) -> list[dict[str, Any]]:
    """Runs `action` and returns the ingest control messages it sent (after its commit)."""
    async with rig.runtime.events.subscribe(CHANNEL) as sub:
        await action()
        return [await asyncio.wait_for(sub.__anext__(), 10) for _ in range(count)]


async def no_control_message(rig: Rig, action: Any) -> None:
    async with rig.runtime.events.subscribe(CHANNEL) as sub:
        await action()
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(sub.__anext__(), 0.3)


class TestOwnership:
    async def test_another_accounts_stream_answers_1005(self, rig: Rig) -> None:
        owner = await rig.signup("owner")
        intruder = await rig.signup("intruder")
        stream = await rig.new_stream(owner)
        sid = stream["id"]
        for method, path, body in [
            ("GET", f"/streams/{sid}", None),
            ("POST", f"/streams/{sid}/changeKey", None),
            ("POST", f"/streams/{sid}/destination", {"service": "YouTube", "streamKey": "k"}),
            ("GET", f"/streams/{sid}/destination", None),
            ("PATCH", f"/streams/{sid}", {"isActive": False}),
            ("DELETE", f"/streams/{sid}", None),
        ]:
            kwargs: dict[str, Any] = {"json": body} if body is not None else {}
            r = await rig.request(method, path, token=intruder, **kwargs)
            assert error_of(r) == (400, 1005), (method, path)
        assert await rig.ok("GET", "/streams/", token=intruder) == []
        detail = await rig.ok("GET", f"/streams/{sid}", token=owner)
        assert (detail["streamKey"], detail["isActive"], detail["destinations"]) == (stream["streamKey"], True, None)

    async def test_streams_of_another_instance_are_unknown(
        self, rig: Rig, factory: Any, client: Any, runtime: Any
    ) -> None:
        token = await rig.signup()
        stream = await rig.new_stream(token)
        other = Rig(client, runtime, rig.sat, "other", await factory.create_instance(rig.sat, "rig", "other"))
        other_token = await other.signup()
        assert error_of(await other.request("GET", f"/streams/{stream['id']}", token=other_token)) == (400, 1008)
        assert error_of(await other.request("GET", f"/agents/config/{stream['streamKey']}")) == (400, 1008)
        assert await other.ok("GET", "/streams/", token=other_token) == []

    async def test_list_is_empty_array_then_the_streams_in_creation_order(self, rig: Rig, clock: FrozenClock) -> None:
        token = await rig.signup()
        assert await rig.ok("GET", "/streams/", token=token) == []
        ids = []
        for _ in range(3):
            ids.append((await rig.new_stream(token))["id"])
            clock.advance(timedelta(seconds=1))
        await rig.add(token, ids[0])
        listed = await rig.ok("GET", "/streams/", token=token)
        assert [s["id"] for s in listed] == ids
        assert all(s["destinations"] is None and s["provisionStatus"] is None for s in listed)
        assert len({s["streamKey"] for s in listed}) == 3


class TestExtensions:
    async def test_deactivate_and_reactivate_a_stream(self, rig: Rig) -> None:
        token = await rig.signup()
        sid = (await rig.new_stream(token))["id"]
        r = await rig.request("PATCH", f"/streams/{sid}", token=token, json={"isActive": False})
        assert r.status_code == 200 and r.json()["message"] == "Stream updated"
        assert r.json()["payload"]["isActive"] is False
        listed = await rig.ok("GET", "/streams/", token=token)
        assert listed[0]["isActive"] is False  # present when false, unlike rig's omitempty
        assert (await rig.ok("PATCH", f"/streams/{sid}", token=token, json={"isActive": True}))["isActive"] is True

    @pytest.mark.parametrize(("body", "code"), [({}, 1004), ({"isActive": "no"}, 1005), ({"isActive": 0}, 1005)])
    async def test_stream_patch_validation(self, rig: Rig, body: dict[str, Any], code: int) -> None:
        token = await rig.signup()
        sid = (await rig.new_stream(token))["id"]
        r = await rig.request("PATCH", f"/streams/{sid}", token=token, json=body)
        assert error_of(r) == (400, code)
        assert set(r.json()["details"]) == {"isActive"}

    async def test_delete_a_stream_with_its_destinations(self, rig: Rig) -> None:
        token = await rig.signup()
        stream = await rig.new_stream(token)
        await rig.add(token, stream["id"])
        r = await rig.request("DELETE", f"/streams/{stream['id']}", token=token)
        assert r.status_code == 200 and r.json() == {"message": "Stream deleted", "payload": None}
        assert error_of(await rig.request("GET", f"/streams/{stream['id']}", token=token)) == (400, 1008)
        assert error_of(await rig.request("GET", f"/agents/config/{stream['streamKey']}")) == (400, 1008)
        assert await rig.ok("GET", "/streams/", token=token) == []

    @pytest.mark.parametrize("word", ["destination", "destinations"])
    async def test_list_update_and_remove_destinations(self, rig: Rig, word: str) -> None:
        token = await rig.signup()
        sid = (await rig.new_stream(token))["id"]
        youtube = await rig.add(token, sid, "YouTube", "yt-key")
        twitch = await rig.add(token, sid, "Twitch", "tw-key")
        listed = await rig.ok("GET", f"/streams/{sid}/{word}", token=token)
        assert [d["id"] for d in listed] == [youtube["id"], twitch["id"]]
        assert listed[0]["status"] == "idle" and listed[0]["reconnects"] == 0 and listed[0]["lastError"] is None

        r = await rig.request(
            "PATCH", f"/streams/{sid}/{word}/{youtube['id']}", token=token, json={"isActive": False, "streamKey": "new"}
        )
        assert r.status_code == 200 and r.json()["message"] == "Stream destination updated"
        updated = r.json()["payload"]
        assert (updated["isActive"], updated["streamKey"]) == (False, "new")
        assert updated["rtmpUrl"] == "rtmp://a.rtmp.youtube.com/live2/new"
        config = await rig.ok(
            "GET", f"/agents/config/{(await rig.ok('GET', f'/streams/{sid}', token=token))['streamKey']}"
        )
        assert [d["isActive"] for d in config] == [False, True]  # inactive ones are listed too, as in rig

        r = await rig.request("DELETE", f"/streams/{sid}/{word}/{twitch['id']}", token=token)
        assert r.json() == {"message": "Stream destination removed", "payload": None}
        assert [d["id"] for d in await rig.ok("GET", f"/streams/{sid}/destination", token=token)] == [youtube["id"]]

    async def test_unknown_destinations_and_destinations_of_other_streams(self, rig: Rig) -> None:
        token = await rig.signup()
        first = (await rig.new_stream(token))["id"]
        second = (await rig.new_stream(token))["id"]
        elsewhere = await rig.add(token, second)
        for dest in ["999999", "abc", str(elsewhere["id"]), "-1", "9" * 40]:
            for method in ("PATCH", "DELETE"):
                kwargs: dict[str, Any] = {"json": {"isActive": True}} if method == "PATCH" else {}
                r = await rig.request(method, f"/streams/{first}/destination/{dest}", token=token, **kwargs)
                assert error_of(r) == (400, 1008), (method, dest)

    async def test_destination_patch_validation(self, rig: Rig) -> None:
        token = await rig.signup()
        sid = (await rig.new_stream(token))["id"]
        dest = await rig.add(token, sid)
        path = f"/streams/{sid}/destination/{dest['id']}"
        for body, details in [
            ({"isActive": "yes"}, {"isActive": ["not a boolean"]}),
            ({"streamKey": 5}, {"streamKey": ["not a string"]}),
            ({"streamKey": ""}, {"streamKey": ["zero value"]}),  # YouTube needs a key
            ({"streamKey": "has space"}, {"streamKey": ["contains white space"]}),
        ]:
            r = await rig.request("PATCH", path, token=token, json=body)
            assert error_of(r) == (400, 1005), body
            assert r.json()["details"] == details
        unchanged = await rig.ok("GET", f"/streams/{sid}/destination", token=token)
        assert unchanged[0]["streamKey"] == "yt-key" and unchanged[0]["isActive"] is True

    async def test_destination_ids_come_from_one_sequence(self, rig: Rig) -> None:
        token = await rig.signup()
        a, b = (await rig.new_stream(token))["id"], (await rig.new_stream(token))["id"]
        ids = [(await rig.add(token, sid))["id"] for sid in (a, b, a)]
        assert ids == sorted(ids) and len(set(ids)) == 3 and all(isinstance(i, int) for i in ids)


class TestServices:
    async def test_custom_rtmp_and_rtmps_urls(self, rig: Rig) -> None:
        token = await rig.signup()
        sid = (await rig.new_stream(token))["id"]
        for url, key, expected in [
            (
                "rtmps://live-api-s.facebook.com:443/rtmp",
                "FB-1?s_bl=1",
                "rtmps://live-api-s.facebook.com:443/rtmp/FB-1?s_bl=1",
            ),
            ("rtmp://127.0.0.1:1935/live/", "abc", "rtmp://127.0.0.1:1935/live/abc"),
            ("rtmp://example.net/app/fullkey", "", "rtmp://example.net/app/fullkey"),
        ]:
            body = {"service": "Custom", "rtmpUrl": url, "streamKey": key}
            dest = await rig.ok("POST", f"/streams/{sid}/destination", token=token, json=body)
            assert (dest["service"], dest["streamKey"], dest["rtmpUrl"]) == ("Custom", key, expected)
        no_key = {"service": "Custom", "rtmpUrl": "rtmp://example.net/app/k2"}
        assert (await rig.ok("POST", f"/streams/{sid}/destination", token=token, json=no_key))["streamKey"] == ""

    @pytest.mark.parametrize(
        ("body", "code", "field"),
        [
            ({"service": "Custom", "streamKey": "k"}, 1004, "rtmpUrl"),
            ({"service": "Custom", "rtmpUrl": "http://example.net/app", "streamKey": "k"}, 1005, "rtmpUrl"),
            ({"service": "Custom", "rtmpUrl": "srt://example.net:9000", "streamKey": "k"}, 1005, "rtmpUrl"),
            ({"service": "Custom", "rtmpUrl": "rtmp:///app", "streamKey": "k"}, 1005, "rtmpUrl"),
            ({"service": "Custom", "rtmpUrl": "rtmp://host:99999/app", "streamKey": "k"}, 1005, "rtmpUrl"),
            ({"service": "Custom", "rtmpUrl": "rtmp://host/a pp", "streamKey": "k"}, 1005, "rtmpUrl"),
            ({"service": "Custom", "rtmpUrl": "rtmp://host/app?x=1", "streamKey": "k"}, 1005, "rtmpUrl"),
            ({"service": "YouTube"}, 1004, "streamKey"),
            ({"streamKey": "k"}, 1004, "service"),
            ({"service": "YouTube", "streamKey": 12}, 1005, "streamKey"),
        ],
    )
    async def test_destination_validation(self, rig: Rig, body: dict[str, Any], code: int, field: str) -> None:
        token = await rig.signup()
        sid = (await rig.new_stream(token))["id"]
        r = await rig.request("POST", f"/streams/{sid}/destination", token=token, json=body)
        assert error_of(r) == (400, code)
        assert field in r.json()["details"]
        assert await rig.ok("GET", f"/streams/{sid}/destination", token=token) == []

    async def test_instance_options_name_the_ingest_of_youtube_and_twitch(
        self, factory: Any, client: Any, runtime: Any
    ) -> None:
        rig = await make_rig(
            factory, client, runtime, youtubeUrl="rtmp://127.0.0.1:19350/yt/", twitchUrl="rtmps://127.0.0.1/tw"
        )
        token = await rig.signup()
        sid = (await rig.new_stream(token))["id"]
        assert (await rig.add(token, sid, "YouTube", "a"))["rtmpUrl"] == "rtmp://127.0.0.1:19350/yt/a"
        assert (await rig.add(token, sid, "Twitch", "b"))["rtmpUrl"] == "rtmps://127.0.0.1/tw/b"


class TestLiveFields:
    async def test_live_state_in_the_detail_and_the_list(self, rig: Rig, clock: FrozenClock) -> None:
        token = await rig.signup()
        stream = await rig.new_stream(token)
        sid, key = stream["id"], stream["streamKey"]
        dest = await rig.add(token, sid)
        detail = await rig.ok("GET", f"/streams/{sid}", token=token)
        assert detail["ingestUrl"] == f"{rig.runtime.settings.rtmp_base_url}/rig/{key}"
        assert (detail["isStreaming"], detail["liveSince"], detail["provisionStatus"]) == (False, None, None)

        ingest = RigIngest()
        admission = await ingest.admit(rig.runtime, Publish(app="rig", key=key, client_id="7"))
        assert admission.ref == sid
        state = OutputState(id=str(dest["id"]), url=dest["rtmpUrl"], status="live", bitrate_kbps=2500.4, reconnects=2)
        await ingest.output_changed(rig.runtime, sid, state, None)
        detail = await rig.ok("GET", f"/streams/{sid}", token=token)
        assert detail["isStreaming"] is True and detail["liveSince"] is not None
        provision = detail["provisionStatus"]
        assert provision["streamUrl"] == detail["ingestUrl"]
        assert provision["server"]["hostname"] == node_name(rig.runtime)
        assert provision["server"]["lastCheck"].endswith("Z")
        assert set(provision) == {"region", "server", "streamUrl"}
        assert set(provision["server"]) == {"hostname", "region", "lastCheck"}
        assert provision["region"]["name"] == "local"
        shown = detail["destinations"][0]
        assert (shown["status"], shown["bitrateKbps"], shown["reconnects"]) == ("live", 2500.4, 2)
        assert shown["statusChangedAt"] is not None
        assert (await rig.ok("GET", "/streams/", token=token))[0]["isStreaming"] is True

        # Without a heartbeat for over a minute, the stream no longer counts as live.
        clock.advance(timedelta(seconds=61))
        detail = await rig.ok("GET", f"/streams/{sid}", token=token)
        assert (detail["isStreaming"], detail["liveSince"]) == (False, None)
        assert detail["provisionStatus"] is not None  # placed once: stays

        await ingest.ended(rig.runtime, key, sid, SessionEnd("done"))
        detail = await rig.ok("GET", f"/streams/{sid}", token=token)
        assert detail["isStreaming"] is False and detail["destinations"][0]["status"] == "idle"

    async def test_change_key_while_live_ends_the_session(self, rig: Rig) -> None:
        token = await rig.signup()
        stream = await rig.new_stream(token)
        sid, old = stream["id"], stream["streamKey"]
        ingest = RigIngest()
        await ingest.admit(rig.runtime, Publish(app="rig", key=old))

        async def change() -> None:
            await rig.ok("POST", f"/streams/{sid}/changeKey", token=token)

        assert await control_messages(rig, change) == [{"action": "drop", "app": "rig", "key": old}]
        detail = await rig.ok("GET", f"/streams/{sid}", token=token)
        assert detail["isStreaming"] is False
        assert await ingest.still_allowed(rig.runtime, old, sid) is False
        # The publisher comes back with the new key at once; the old session's end changes nothing.
        await ingest.admit(rig.runtime, Publish(app="rig", key=detail["streamKey"]))
        await ingest.ended(rig.runtime, old, sid, SessionEnd("dropped"))
        assert (await rig.ok("GET", f"/streams/{sid}", token=token))["isStreaming"] is True

    async def test_deactivating_or_deleting_a_live_stream_drops_it(self, rig: Rig) -> None:
        token = await rig.signup()
        ingest = RigIngest()
        for method, body in [("PATCH", {"isActive": False}), ("DELETE", None)]:
            stream = await rig.new_stream(token)
            await ingest.admit(rig.runtime, Publish(app="rig", key=stream["streamKey"]))

            async def act(method: str = method, body: Any = body, sid: str = stream["id"]) -> None:
                kwargs: dict[str, Any] = {"json": body} if body is not None else {}
                assert (await rig.request(method, f"/streams/{sid}", token=token, **kwargs)).status_code == 200

            sent = await control_messages(rig, act)
            assert sent == [{"action": "drop", "app": "rig", "key": stream["streamKey"]}]
            assert await ingest.still_allowed(rig.runtime, stream["streamKey"], stream["id"]) is False

    async def test_destination_changes_of_a_live_stream_refresh_its_outputs(self, rig: Rig) -> None:
        token = await rig.signup()
        stream = await rig.new_stream(token)
        sid, key = stream["id"], stream["streamKey"]
        first = await rig.add(token, sid)

        async def add() -> None:
            await rig.add(token, sid, "Twitch", "tw")

        await no_control_message(rig, add)  # not live: nothing to tell the ingest
        ingest = RigIngest()
        await ingest.admit(rig.runtime, Publish(app="rig", key=key))
        refresh = {"action": "refresh", "app": "rig", "key": key}
        assert await control_messages(rig, lambda: rig.add(token, sid, "Twitch", "second")) == [refresh]
        path = f"/streams/{sid}/destination/{first['id']}"
        assert await control_messages(
            rig, lambda: rig.request("PATCH", path, token=token, json={"isActive": False})
        ) == [refresh]
        assert await control_messages(rig, lambda: rig.request("DELETE", path, token=token)) == [refresh]
        outputs = await ingest.outputs(rig.runtime, key, sid)
        assert [o.url for o in outputs] == ["rtmp://live.twitch.tv/app/tw", "rtmp://live.twitch.tv/app/second"]


async def test_deleting_the_instance_drops_its_live_streams_and_its_rows(rig: Rig) -> None:
    token = await rig.signup()
    stream = await rig.new_stream(token)
    await rig.add(token, stream["id"])
    await RigIngest().admit(rig.runtime, Publish(app="rig", key=stream["streamKey"]))

    async def delete() -> None:
        r = await rig.client.delete(f"/riginstance/{rig.name}", headers={"x-jwt": f"Bearer {rig.sat}"})
        assert r.status_code == 204, r.text

    assert await control_messages(rig, delete) == [{"action": "drop", "app": "rig", "key": stream["streamKey"]}]
    assert await RigIngest().still_allowed(rig.runtime, stream["streamKey"], stream["id"]) is False
    async with rig.runtime.db.session() as session:
        for model in (RigAccount, RigStream, RigDestination):
            assert await session.scalar(select(func.count()).select_from(model)) == 0
