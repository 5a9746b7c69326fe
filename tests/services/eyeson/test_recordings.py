"""Recordings with real media: aiortc peers in their own colours and tones join through the API; the room is
recorded for 10 s into WebM (the shared encoder's VP8 packets muxed as they are, the mix in Opus), stored,
and downloaded through its signed link; FFmpeg probes it and PyAV decodes its tiles and tones. A recording whose
participants all leave is finalised when the meeting ends. The rules: 405 when recordings are off, 406 while one
runs, 404/410, forged or expired links 403, the restart sweep."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from mediaplane.config import Settings
from mediaplane.kit.clock import FrozenClock
from mediaplane.kit.ffmpeg import probe
from mediaplane.kit.mcu import tile_rects
from mediaplane.services.eyeson.background import eyeson_background, sweep
from mediaplane.services.eyeson.events import room_channel
from mediaplane.services.eyeson.media import media_rooms
from mediaplane.services.eyeson.recording.recorder import recorders
from tests.fixtures.receiver import Receiver, webhook_receiver
from tests.fixtures.webrtc import BLUE, RED, Peer, centre, colour_at, forwarded, near, tone_level
from tests.services.eyeson.conftest import Eyeson, connect, error_of, eyeson_settings, online

pytestmark = [pytest.mark.timeout(90), pytest.mark.usefixtures("loopback_ice")]


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


W, H = 320, 240  # the eyeson test settings' canvas
RECORD_SECONDS = 10.0


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook_receiver() as made:
        yield made


class Observer:
    """Every realtime event of one meeting, from the moment it is made."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def of(self, type_: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == type_]


@contextlib.asynccontextmanager
async def observe(eyeson: Eyeson, meeting_id: str) -> AsyncIterator[Observer]:
    observer = Observer()
    async with eyeson.runtime.events.subscribe(room_channel(meeting_id)) as events:

        async def read() -> None:
            async for event in events:
                observer.events.append(dict(event))

        task = asyncio.ensure_future(read())
        try:
            yield observer
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)


def meeting_id(eyeson: Eyeson) -> str:
    (found,) = media_rooms(eyeson.runtime).rooms
    return found


async def until_ready(eyeson: Eyeson, recording_id: str, within: float = 30) -> dict[str, Any]:
    for _ in range(int(within / 0.1)):
        body: dict[str, Any] = await eyeson.ok("GET", f"/recordings/{recording_id}", key=eyeson.key)
        if body["links"]["download"] or body["status"] == "failed":
            assert body["status"] == "ready", body
            return body
        await asyncio.sleep(0.1)
    raise AssertionError(f"recording {recording_id} not ready: {body}")


async def download(eyeson: Eyeson, url: str, target: Path) -> Path:
    r = await eyeson.client.get(url)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "video/webm"
    await asyncio.to_thread(target.write_bytes, r.content)
    return target


def decoded(path: Path) -> tuple[list[av.VideoFrame], np.ndarray]:
    """The file's pictures and its audio (mono s16); checks that both tracks start together and end together."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    resampler = av.AudioResampler(format="s16", layout="mono", rate=48000)
    samples, starts = [], []
    with av.open(str(path)) as container:
        for frame in container.decode(audio=0):
            starts.append(float(frame.time))
            for out in resampler.resample(frame):
                samples.append(out.to_ndarray().reshape(-1))
    audio = np.concatenate(samples)
    video_start, video_end = float(frames[0].time), float(frames[-1].time)
    assert video_start == 0 and starts[0] <= 0.1, (video_start, starts[0])
    assert abs(starts[0] + len(audio) / 48000 - video_end) <= 0.6, (starts[0], len(audio), video_end)
    return frames, audio


async def two_in_a_room(eyeson: Eyeson, peers: list[Peer], room_id: str) -> tuple[str, str]:
    ann = await eyeson.room("Ann", id=room_id, **{"user[id]": "ann"})
    bob = await eyeson.room("Bob", id=room_id, **{"user[id]": "bob"})
    for room, colour, tone in ((ann, RED, 440.0), (bob, BLUE, 660.0)):
        peers.append(await connect(eyeson, Peer(colour, tone), room["access_key"]))
    await online(eyeson, room_id, {"ann", "bob"})
    await peers[0].wait_for(forwarded(BLUE), within=20)  # two: Bob's video as it comes (sfu_mode ptp) until recording
    return ann["access_key"], bob["access_key"]


async def test_a_recording_of_the_room(
    eyeson: Eyeson, peers: list[Peer], receiver: Receiver, clock: FrozenClock, tmp_path: Path
) -> None:
    eyeson.runtime.jobs.start_workers(1)
    await eyeson.ok("POST", "/webhooks", 201, key=eyeson.key, data={"url": receiver.url, "types": "recording_update"})
    ann, bob = await two_in_a_room(eyeson, peers, "rec")
    async with observe(eyeson, meeting_id(eyeson)) as observer:
        started = await eyeson.ok("POST", f"/rooms/{ann}/recording", 201)
        assert started["duration"] is None and started["links"]["download"] is None
        assert started["status"] == "recording" and isinstance(started["created_at"], int)
        assert started["user"]["id"] == "ann" and started["room"]["id"] == "rec"
        assert started["links"]["self"].endswith(f"/recordings/{started['id']}")
        assert error_of(await eyeson.request("POST", f"/rooms/{bob}/recording"))[0] == 406
        shown = (await eyeson.ok("GET", f"/rooms/{bob}"))["recording"]  # the room shows what records
        assert shown is not None and shown["id"] == started["id"] and shown["status"] == "recording"
        await asyncio.sleep(RECORD_SECONDS)
        stopped = await eyeson.ok("DELETE", f"/rooms/{bob}/recording")
        assert stopped["id"] == started["id"]
        assert error_of(await eyeson.request("DELETE", f"/rooms/{bob}/recording"))[0] == 404
        assert (await eyeson.ok("GET", f"/rooms/{bob}"))["recording"] is None
        ready = await until_ready(eyeson, started["id"])
        await asyncio.sleep(0.2)
    states = [(e["recording"]["status"], e["recording"]["duration"]) for e in observer.of("recording_update")]
    assert [s for s, _ in states] == ["recording", "stopped", "ready"], states
    assert states[0][1] is None and states[1][1] == ready["duration"]
    assert abs(ready["duration"] - RECORD_SECONDS) <= 1.5, ready

    path = await download(eyeson, ready["links"]["download"], tmp_path / "rec.webm")
    info = await probe(path)
    assert info.format_name is not None and "webm" in info.format_name
    assert info.video is not None and (info.video.codec, info.video.width, info.video.height) == ("vp8", W, H)
    assert info.audio is not None and info.audio.codec == "opus" and info.audio.sample_rate == 48000
    assert info.duration is not None and abs(info.duration - RECORD_SECONDS) <= 1.5, info.duration
    frames, audio = decoded(path)
    assert len(frames) >= RECORD_SECONDS * 5 * 0.6  # 5 fps, some slack for a busy machine
    tiles = tile_rects(2, W, H)
    for at in (len(frames) // 10, len(frames) // 2, len(frames) * 9 // 10):  # early, middle and late
        picture = frames[at].to_ndarray(format="rgb24")
        assert near(colour_at(picture, *centre(tiles[0])), RED) and near(colour_at(picture, *centre(tiles[1])), BLUE)
    assert len(audio) >= (RECORD_SECONDS - 1.5) * 48000
    heard = audio[len(audio) // 4 : 3 * len(audio) // 4]
    assert tone_level(heard, 440) > 100 and tone_level(heard, 660) > 100, (tone_level(heard, 440), len(heard))

    # The webhook: the ready recording, signed with the API key.
    (hook,) = await receiver.wait_for(["recording_update"])
    assert hook["recording"]["id"] == started["id"] and hook["recording"]["links"]["download"]
    expected = hmac.new(eyeson.key.encode(), receiver.raw[0], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(receiver.headers[0]["x-eyeson-signature"], expected)

    # Range, listing, forged and expired links.
    url = ready["links"]["download"]
    part = await eyeson.client.get(url, headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.content) == 100
    listed = await eyeson.ok("GET", "/rooms/rec/recordings", key=eyeson.key)
    assert [r["id"] for r in listed] == [started["id"]]
    assert await eyeson.ok("GET", "/rooms/rec/recordings?page=2", key=eyeson.key) == []
    forged = url.replace("signature=", "signature=0")
    assert error_of(await eyeson.client.get(forged))[0] == 403
    other = url.replace(started["id"], "0" * 24)
    assert error_of(await eyeson.client.get(other))[0] == 403
    clock.advance(timedelta(hours=1, seconds=1))
    status, message = error_of(await eyeson.client.get(url))
    assert status == 403 and "expired" in message
    fresh = await eyeson.ok("GET", f"/recordings/{started['id']}", key=eyeson.key)
    assert (await eyeson.client.get(fresh["links"]["download"])).status_code == 200

    await eyeson.ok("DELETE", f"/recordings/{started['id']}", key=eyeson.key)
    assert error_of(await eyeson.request("GET", f"/recordings/{started['id']}", key=eyeson.key))[0] == 404
    assert [o.key for o in await eyeson.runtime.storage.list("eyeson") if "/recordings/" in o.key] == []


async def test_a_recording_outlives_its_participants(
    eyeson: Eyeson, peers: list[Peer], clock: FrozenClock, tmp_path: Path
) -> None:
    room = await eyeson.room("Ann", id="left", **{"user[id]": "ann"})
    ak = room["access_key"]
    peers.append(await connect(eyeson, Peer(RED, 440.0), ak))
    await online(eyeson, "left", {"ann"})
    started = await eyeson.ok("POST", f"/rooms/{ak}/recording", 201)
    await asyncio.sleep(2.5)
    await eyeson.ok("DELETE", f"/rooms/{ak}/webrtc")  # the last one leaves: the meeting ends after the timeout
    await online(eyeson, "left", set())
    clock.advance(timedelta(seconds=eyeson.runtime.settings.eyeson_departure_timeout + 1))
    assert await sweep(eyeson.runtime) == 1
    assert error_of(await eyeson.request("GET", f"/rooms/{ak}"))[0] == 410
    ready = await until_ready(eyeson, started["id"])
    assert 1.5 <= ready["duration"] <= 4.5, ready
    path = await download(eyeson, ready["links"]["download"], tmp_path / "left.webm")
    frames, audio = decoded(path)
    first = frames[len(frames) // 4].to_ndarray(format="rgb24")
    assert near(colour_at(first, W // 2, H // 2), RED)
    assert len(audio) > 48000 and tone_level(audio[: len(audio) // 2], 440) > 100


async def test_recording_rules(eyeson: Eyeson) -> None:
    off = await eyeson.room("Ann", id="off", **{"options[recording_available]": "false"})
    status, message = error_of(await eyeson.request("POST", f"/rooms/{off['access_key']}/recording"))
    assert status == 405 and "not available" in message
    assert error_of(await eyeson.request("POST", "/rooms/nosuchaccesskey0000000000/recording"))[0] == 404
    assert error_of(await eyeson.request("DELETE", f"/rooms/{off['access_key']}/recording"))[0] == 404
    assert error_of(await eyeson.request("GET", "/recordings/0123456789abcdef01234567", key=eyeson.key))[0] == 404
    assert error_of(await eyeson.request("GET", "/recordings/0123456789abcdef01234567"))[0] == 401
    assert error_of(await eyeson.request("DELETE", "/recordings/0123456789abcdef01234567", key=eyeson.key))[0] == 404
    assert error_of(await eyeson.request("GET", "/rooms/nosuchroom/recordings", key=eyeson.key))[0] == 404
    assert error_of(await eyeson.request("GET", "/rooms/off/recordings?since=yesterday", key=eyeson.key))[0] == 400
    assert error_of(await eyeson.request("GET", "/recordings/0123456789abcdef01234567/download"))[0] == 403
    odd = "/recordings/0123456789abcdef01234567/download?expires=%C2%B2&signature=00"
    assert error_of(await eyeson.request("GET", odd))[0] == 403
    assert await eyeson.ok("GET", "/rooms/off/recordings", key=eyeson.key, params={"page": "9" * 12}) == []

    # An empty room records its background; stopped at once, it is still a file.
    room = await eyeson.room("Bob", id="empty", **{"user[id]": "bob"})
    started = await eyeson.ok("POST", f"/rooms/{room['access_key']}/recording", 201)
    await asyncio.sleep(1.0)
    await eyeson.ok("DELETE", f"/rooms/{room['access_key']}/recording")
    ready = await until_ready(eyeson, started["id"])
    assert ready["duration"] in (0, 1, 2) and ready["user"]["id"] == "bob"
    since = await eyeson.ok("GET", "/rooms/empty/recordings", key=eyeson.key, params={"since": "2000-01-01T00:00:00Z"})
    until = await eyeson.ok("GET", "/rooms/empty/recordings", key=eyeson.key, params={"until": "2000-01-01T00:00:00Z"})
    assert [r["id"] for r in since] == [started["id"]] and until == []
    at = await eyeson.ok(
        "GET", "/rooms/empty/recordings", key=eyeson.key, params={"started_at": room["room"]["started_at"]}
    )
    assert [r["id"] for r in at] == [started["id"]]

    # A meeting that ended: its access keys are gone.
    await eyeson.ok("DELETE", f"/rooms/{room['access_key']}", 204)
    assert error_of(await eyeson.request("POST", f"/rooms/{room['access_key']}/recording"))[0] == 410


async def test_a_server_restart_fails_unfinished_recordings(eyeson: Eyeson) -> None:
    room = await eyeson.room("Ann", id="cut", **{"user[id]": "ann"})
    started = await eyeson.ok("POST", f"/rooms/{room['access_key']}/recording", 201)
    # The process "dies": the recorder vanishes without finishing anything; the row still says "recording".
    runtime = eyeson.runtime
    assert recorders(runtime).stop(meeting_id(eyeson), discard=True)
    await recorders(runtime).close()
    assert (await eyeson.ok("GET", f"/recordings/{started['id']}", key=eyeson.key))["status"] == "recording"
    async with eyeson_background(runtime):
        failed = await eyeson.ok("GET", f"/recordings/{started['id']}", key=eyeson.key)
    assert failed["status"] == "failed" and failed["duration"] is None and failed["links"]["download"] is None


class TestWhenTheFileCannotBeWritten:
    @pytest.fixture
    def settings(self, tmp_path: Path, database_url: str) -> Settings:
        blocked = tmp_path / "not-a-folder"
        blocked.write_text("a file where the work dir should be")
        return eyeson_settings(tmp_path, database_url, work_dir=blocked)

    async def test_the_recording_fails(self, eyeson: Eyeson) -> None:
        room = await eyeson.room("Ann", id="broken", **{"user[id]": "ann"})
        started = await eyeson.ok("POST", f"/rooms/{room['access_key']}/recording", 201)
        await asyncio.sleep(0.5)
        await eyeson.ok("DELETE", f"/rooms/{room['access_key']}/recording")
        for _ in range(100):
            body = await eyeson.ok("GET", f"/recordings/{started['id']}", key=eyeson.key)
            if body["status"] != "recording":
                break
            await asyncio.sleep(0.1)
        assert body["status"] == "failed" and body["duration"] is None and body["links"]["download"] is None
        # The meeting can record again.
        assert error_of(await eyeson.request("DELETE", f"/rooms/{room['access_key']}/recording"))[0] == 404
        await eyeson.ok("POST", f"/rooms/{room['access_key']}/recording", 201)
