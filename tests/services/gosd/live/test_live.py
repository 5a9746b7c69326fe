"""Live points end to end: FFmpeg publishes a test pattern to a point's publish URL on the real RTMP ingest;
the node list shows it live with its play URLs; HTTP-FLV and HLS give decodable video; the secret guards it."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from mediaplane.kit.rtmp.chunks import Message
from mediaplane.kit.rtmp.media import Kind, kind_of
from mediaplane.kit.rtmp.messages import VIDEO
from mediaplane.services.gosd import live
from tests.fixtures.live import publish_refused, publishing, wait_for
from tests.services.gosd.live.conftest import LiveGosd, flv_tags, live_gosd

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

FLV_POINT = {"name": "aa", "type": "livestream_flv"}
HLS_POINT = {"name": "cam", "type": "livestream_hls"}


def read_flv(url: str, enough: int = 150_000, timeout: float = 30) -> bytes:
    """The first `enough` bytes of an HTTP-FLV stream (then the viewer goes)."""
    data = b""
    with httpx.stream("GET", url, timeout=timeout, headers={"Origin": "https://sdwc.example"}) as r:
        assert r.status_code == 200, r.read()
        assert r.headers["content-type"] == "video/x-flv"
        assert r.headers["access-control-allow-origin"] == "*"
        for chunk in r.iter_bytes():
            data += chunk
            if len(data) >= enough:
                break
    return data


def frames_in(path: Path) -> int:
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(container.streams.video[0]))


def live_of(server: LiveGosd, node_id: int, point_id: int) -> bool:
    return bool(server.point(node_id, point_id)["live"])


def test_points_show_play_urls_and_go_live(server: LiveGosd, tmp_path: Path) -> None:
    custom = {"name": "ext", "type": "livestream_flv", "params": {"url": "https://media.example/x.flv"}}
    node, secret = server.node_with(FLV_POINT, HLS_POINT, custom, {"name": "m", "type": "map"})
    flv, hls, own, other = server.points(node["id"])
    assert flv["name"] == "aa" and flv["params"]["url"].startswith(f"{server.base}/live/{flv['id']}-")
    assert flv["params"]["url"].endswith(".flv")
    assert hls["params"]["url"].startswith(f"{server.base}/live/{hls['id']}-")
    assert hls["params"]["url"].endswith("/index.m3u8")
    assert own["params"]["url"] == "https://media.example/x.flv"  # the user's own URL wins
    assert "url" not in other["params"]
    assert [p["live"] for p in (flv, hls, own, other)] == [False] * 4
    r = httpx.get(flv["params"]["url"])
    assert r.status_code == 404 and r.json() == {"error_message": "This point is not live"}

    with publishing(server.publish_url(flv["id"], secret)) as publisher:
        wait_for(lambda: live_of(server, node["id"], flv["id"]), timeout=30)
        assert not live_of(server, node["id"], hls["id"])
        data = read_flv(flv["params"]["url"])
        # A second viewer gets its own stream from the current GOP on.
        second = read_flv(flv["params"]["url"], enough=20_000)
        assert publisher.poll() is None

    tags = flv_tags(data)
    assert tags[0][0] == 18 and b"onMetaData" in tags[0][2][:16]
    video = [body for kind, _, body in tags if kind == VIDEO]
    assert kind_of(Message(VIDEO, 1, 0, video[0])) == Kind.VIDEO_CONFIG and video[0][0] & 0x0F == 7  # AVC
    assert kind_of(Message(VIDEO, 1, 0, video[1])) == Kind.VIDEO_KEY
    assert [stamp for kind, stamp, _ in tags if kind == VIDEO][1] == 0
    assert any(kind == 8 for kind, _, _ in tags)  # AAC too (SDWC's flv.js ignores it: hasAudio false)
    assert flv_tags(second)[0][0] == 18
    (tmp_path / "viewer.flv").write_bytes(data)
    assert frames_in(tmp_path / "viewer.flv") > 5
    wait_for(lambda: not live_of(server, node["id"], flv["id"]), timeout=30)


def test_hls_playlist_and_segments(server: LiveGosd, tmp_path: Path) -> None:
    node, secret = server.node_with(HLS_POINT)
    (point,) = server.points(node["id"])
    url = point["params"]["url"]
    with publishing(server.publish_url(point["id"], secret)):
        wait_for(lambda: live_of(server, node["id"], point["id"]), timeout=30)
        r = httpx.get(url, timeout=30)  # the first request waits for the preview to start
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "application/vnd.apple.mpegurl"
        segments = [line for line in r.text.splitlines() if line.endswith(".ts")]
        assert segments and all(s.startswith("seg-") for s in segments)
        segment = httpx.get(url.rsplit("/", 1)[0] + "/" + segments[0])
        assert segment.status_code == 200 and segment.headers["content-type"] == "video/mp2t"
        (tmp_path / "seg.ts").write_bytes(segment.content)
        assert frames_in(tmp_path / "seg.ts") > 0
    wait_for(lambda: not live_of(server, node["id"], point["id"]), timeout=30)
    r = httpx.get(url)
    assert r.status_code == 404 and r.json() == {"error_message": "This point is not live"}


def test_flv_viewer_ends_with_the_publisher(server: LiveGosd) -> None:
    node, secret = server.node_with(FLV_POINT)
    (point,) = server.points(node["id"])
    ended: dict[str, Any] = {}

    def watch() -> None:
        with httpx.stream("GET", point["params"]["url"], timeout=30) as r:
            ended["status"] = r.status_code
            ended["data"] = b"".join(r.iter_bytes())

    with publishing(server.publish_url(point["id"], secret), seconds=3) as publisher:
        wait_for(lambda: live_of(server, node["id"], point["id"]), timeout=30)
        viewer = threading.Thread(target=watch, daemon=True)
        viewer.start()
        publisher.wait(30)
    viewer.join(30)
    assert not viewer.is_alive(), "the FLV response did not end with the publisher"
    assert ended["status"] == 200
    # It followed the stream for a while (not just the GOP it started with), then ended with it.
    video = [stamp for kind, stamp, _ in flv_tags(ended["data"]) if kind == VIDEO]
    assert video[-1] >= 1000, video[-1]
    wait_for(lambda: not live_of(server, node["id"], point["id"]), timeout=30)


def test_the_node_secret_admits_the_publish(server: LiveGosd) -> None:
    node, secret = server.node_with(FLV_POINT, {"name": "m", "type": "map"})
    flv, other = server.points(node["id"])
    for url in (
        server.publish_url(flv["id"], "not-the-secret"),
        server.publish_url(flv["id"], "").split("?")[0],  # no ?secret=
        server.publish_url(other["id"], secret),  # not a live point
        server.publish_url(10**9, secret),  # no such point
    ):
        refused, _ = publish_refused(url)
        assert refused, url
    assert not live_of(server, node["id"], flv["id"])


def test_a_new_secret_drops_the_publisher(server: LiveGosd) -> None:
    node, secret = server.node_with(FLV_POINT)
    (point,) = server.points(node["id"])
    with publishing(server.publish_url(point["id"], secret)) as publisher:
        wait_for(lambda: live_of(server, node["id"], point["id"]), timeout=30)
        # A second publisher of the same point is refused while the first is live.
        refused, _ = publish_refused(server.publish_url(point["id"], secret))
        assert refused and publisher.poll() is None
        server.call("POST", f"/api/v1/nodes/{node['id']}/secret")
        wait_for(lambda: publisher.poll() is not None, timeout=30)
    wait_for(lambda: not live_of(server, node["id"], point["id"]), timeout=30)


def test_play_names_are_checked(server: LiveGosd) -> None:
    node, _ = server.node_with(FLV_POINT)
    (point,) = server.points(node["id"])
    url: str = point["params"]["url"]
    forged = url.replace(f"/{point['id']}-", f"/{point['id']}-0")
    for wrong in (forged, f"{server.base}/live/{point['id']}.flv", f"{server.base}/live/x-y/index.m3u8"):
        r = httpx.get(wrong)
        assert r.status_code == 404, wrong
        assert r.json()["error_message"].startswith("No such live point")


def test_viewers_per_point_are_limited(server: LiveGosd, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "MAX_VIEWERS", 1)
    node, secret = server.node_with(FLV_POINT)
    (point,) = server.points(node["id"])
    with publishing(server.publish_url(point["id"], secret)):
        wait_for(lambda: live_of(server, node["id"], point["id"]), timeout=30)
        with httpx.stream("GET", point["params"]["url"], timeout=30) as first:
            assert first.status_code == 200
            reading = first.iter_bytes()  # kept: a dropped iterator closes the response
            next(reading)
            r = httpx.get(point["params"]["url"])
            assert r.status_code == 503 and "1 viewers already" in r.json()["error_message"]
        # The viewer gone, its place is free again.
        assert len(read_flv(point["params"]["url"], enough=10_000)) >= 10_000


def test_flv_with_nginx_taking_publishers(tmp_path: Path) -> None:
    """RTMP_SERVER=nginx: a viewer starts the session's relay, which plays the stream from nginx."""
    with live_gosd(tmp_path, rtmp_server="nginx") as server:
        node, secret = server.node_with(FLV_POINT)
        (point,) = server.points(node["id"])
        with publishing(server.publish_url(point["id"], secret)):
            wait_for(lambda: live_of(server, node["id"], point["id"]), timeout=30)
            data = read_flv(point["params"]["url"], enough=60_000)
        (tmp_path / "viewer.flv").write_bytes(data)
        assert frames_in(tmp_path / "viewer.flv") > 0
