"""rig end to end: `serve` with its RTMP ingest (real nginx-rtmp), an FFmpeg publisher on the stream key, the
relay pushing to an FFmpeg RTMP receiver given as a Custom destination, and the API showing it all."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from mediaplane.kit.ffmpeg import find_ffmpeg
from tests.fixtures.live import publish_refused, publishing, wait_for
from tests.fixtures.servers import free_port, listening
from tests.services.rig.live_server import LiveRig, live_rig

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveRig]:
    with live_rig(tmp_path) as rig:
        yield rig


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[str, Path, subprocess.Popen[bytes]]]:
    port, out = free_port(), tmp_path / "received.flv"
    url = f"rtmp://127.0.0.1:{port}/app/relayed"
    argv = [find_ffmpeg(), "-hide_banner", "-loglevel", "error", "-nostdin", "-listen", "1", "-i", url]
    process = subprocess.Popen([*argv, "-c", "copy", "-y", str(out)], stderr=subprocess.DEVNULL)
    try:
        wait_for(lambda: listening(port))
        yield f"rtmp://127.0.0.1:{port}/app", out, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_publish_relay_and_change_key_while_live(
    server: LiveRig, receiver: tuple[str, Path, subprocess.Popen[bytes]]
) -> None:
    base, received, receiving = receiver
    stream = server.call("POST", "/streams/")
    sid, key = stream["id"], stream["streamKey"]
    dest = server.call(
        "POST", f"/streams/{sid}/destination", json={"service": "Custom", "rtmpUrl": base, "streamKey": "relayed"}
    )
    assert server.call("GET", f"/streams/{sid}")["ingestUrl"].endswith(f"/rig/{key}")

    with publishing(server.publish_url(key)) as publisher:

        def relayed() -> Any:
            detail = server.call("GET", f"/streams/{sid}")
            shown = detail["destinations"][0]
            return detail["isStreaming"] and shown["status"] == "live" and shown["bitrateKbps"] > 0 and detail

        detail = wait_for(relayed, timeout=60)
        assert detail["provisionStatus"]["server"]["hostname"] == "node-a"
        assert detail["liveSince"] is not None
        # The agents' config is refused while live, as in rig.
        r = httpx.get(f"{server.rig}/agents/config/{key}")
        assert (r.status_code, r.json()["errorCode"]) == (409, 1009)
        # A second publisher on the live key is refused; the first goes on.
        refused, _ = publish_refused(server.publish_url(key))
        assert refused and publisher.poll() is None

        new_key = server.call("POST", f"/streams/{sid}/changeKey")["key"]
        wait_for(lambda: publisher.poll() is not None, timeout=30)  # the ingest dropped it

    assert server.call("GET", f"/streams/{sid}")["isStreaming"] is False
    wait_for(lambda: receiving.poll() is not None, timeout=30)
    with av.open(str(received)) as container:
        assert container.streams.video and container.streams.audio
        assert sum(1 for _ in container.demux(container.streams.video[0])) > 10
    assert server.call("GET", f"/streams/{sid}/destination")[0]["id"] == dest["id"]

    refused, _ = publish_refused(server.publish_url(key))
    assert refused  # the old key is gone
    with publishing(server.publish_url(new_key)):
        wait_for(lambda: server.call("GET", f"/streams/{sid}")["isStreaming"], timeout=30)
    wait_for(lambda: not server.call("GET", f"/streams/{sid}")["isStreaming"], timeout=30)
