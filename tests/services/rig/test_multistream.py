"""rig end to end with two stand-ins for YouTube and Twitch (nginx-rtmp receivers that record): the stream
reaches both, a receiver that dies is reconnected when it is back, the HLS preview plays, and webhooks
arrive signed."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from mediaplane.kit.security import verify_webhook
from tests.fixtures.live import RtmpReceiver, publish_refused, publishing, wait_for
from tests.fixtures.servers import serve_in_thread
from tests.services.rig.live_server import LiveRig, live_rig

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
SECRET = "hook-secret-for-tests"


class Hooks:
    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], bool]] = []
        self.lock = threading.Lock()

    async def endpoint(self, request: Request) -> Response:
        raw = await request.body()
        signed = verify_webhook(SECRET, raw, request.headers.get("x-mediaplane-signature", ""))
        with self.lock:
            self.received.append((json.loads(raw), signed))
        return Response("ok")

    def types(self) -> list[str]:
        with self.lock:
            return [body["type"] for body, _ in self.received]


@pytest.fixture
def hooks() -> Iterator[tuple[Hooks, str]]:
    hooks = Hooks()
    app = Starlette(routes=[Route("/hook", hooks.endpoint, methods=["POST"]), Route("/health", lambda r: Response())])
    with serve_in_thread(app) as url:
        yield hooks, f"{url}/hook"


def test_two_destinations_a_lost_receiver_and_the_preview(tmp_path: Path, hooks: tuple[Hooks, str]) -> None:
    received, hook_url = hooks
    youtube = RtmpReceiver(tmp_path / "youtube", "live2").start()
    twitch = RtmpReceiver(tmp_path / "twitch", "app").start()
    options = {"youtubeUrl": youtube.base_url, "twitchUrl": twitch.base_url}
    try:
        with live_rig(tmp_path, **options, webhookUrl=hook_url, webhookSecret=SECRET) as rig:
            run(rig, youtube, twitch)
    finally:
        youtube.kill()
        twitch.kill()
    assert youtube.video_frames() > 50
    assert twitch.video_frames() > 25  # before and after its outage
    wait_for(lambda: "stream.offline" in received.types(), timeout=30)
    types = received.types()
    for kind in ("stream.live", "destination.error", "destination.recovered", "stream.offline"):
        assert kind in types
    assert all(signed for _, signed in received.received)


def run(rig: LiveRig, youtube: RtmpReceiver, twitch: RtmpReceiver) -> None:
    stream = rig.call("POST", "/streams/")
    sid, key = stream["id"], stream["streamKey"]
    for service, their_key in (("YouTube", "yt-key"), ("Twitch", "tw-key")):
        rig.call("POST", f"/streams/{sid}/destination", json={"service": service, "streamKey": their_key})

    assert publish_refused(rig.publish_url("not-a-stream-key-at-all"))[0]
    rig.call("PATCH", f"/streams/{sid}", json={"isActive": False})
    assert publish_refused(rig.publish_url(key))[0]  # an inactive stream takes no publish
    rig.call("PATCH", f"/streams/{sid}", json={"isActive": True})

    def destinations(status: str) -> Any:
        detail = rig.call("GET", f"/streams/{sid}")
        shown = {d["service"]: d for d in detail["destinations"] or []}
        return detail["isStreaming"] and all(d["status"] == status for d in shown.values()) and shown

    with publishing(rig.publish_url(key)):
        live = wait_for(lambda: destinations("live"), timeout=60)
        assert live["YouTube"]["rtmpUrl"] == f"{youtube.base_url}/yt-key"
        check_preview(rig, sid, key)

        twitch.kill()

        def twitch_status(status: str) -> Any:
            shown = {d["service"]: d for d in rig.call("GET", f"/streams/{sid}")["destinations"]}
            return shown["Twitch"]["status"] == status and shown

        failed = wait_for(lambda: twitch_status("error"), timeout=60)
        assert failed["Twitch"]["lastError"]
        assert failed["YouTube"]["status"] == "live"  # one destination failing never stops another
        twitch.start()
        back = wait_for(lambda: twitch_status("live"), timeout=90)
        assert back["Twitch"]["reconnects"] >= 1
        assert "closed the connection" in back["Twitch"]["lastError"]  # the last error stays, for the record
        time.sleep(2)  # two more seconds of media to both

    idle = wait_for(lambda: (d := rig.call("GET", f"/streams/{sid}")) and not d["isStreaming"] and d, timeout=30)
    assert {d["status"] for d in idle["destinations"]} == {"idle"}
    assert idle["previewUrl"] is None


def check_preview(rig: LiveRig, sid: str, key: str) -> None:
    """The signed preview link: a player page, a playlist that never shows the key, segments that decode."""
    page_url = wait_for(lambda: rig.call("GET", f"/streams/{sid}")["previewUrl"], timeout=30)
    page = httpx.get(page_url)
    assert page.status_code == 200 and "hls.light.min.js" in page.text
    assert httpx.get(f"{rig.api}/_static/vendor/hls.light.min.js").status_code == 200

    def playlist() -> str | None:
        r = httpx.get(f"{page_url}/index.m3u8")
        return r.text if r.status_code == 200 and "seg-" in r.text else None

    text = wait_for(playlist, timeout=30)
    assert key not in text
    segment = next(line for line in text.splitlines() if line.startswith("seg-"))
    r = httpx.get(f"{page_url}/{segment}")
    assert r.status_code == 200 and r.headers["content-type"] == "video/mp2t"
    with av.open(io.BytesIO(r.content), format="mpegts") as container:
        frames = list(container.decode(video=0))
    assert frames and frames[0].width == 320
    bad = httpx.get(f"{page_url[:-4]}abcd/index.m3u8")
    assert bad.status_code == 401 and bad.json()["errorCode"] == 1003
    bad_page = httpx.get(f"{page_url[:-4]}abcd")  # a person opening a broken link gets a page
    assert bad_page.status_code == 401 and bad_page.headers["content-type"].startswith("text/html")
    assert "not valid or has expired" in bad_page.text
