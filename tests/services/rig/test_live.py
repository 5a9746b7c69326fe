"""rig end to end: `serve` with its RTMP ingest (real nginx-rtmp), an FFmpeg publisher on the stream key, the
relay pushing to an FFmpeg RTMP receiver given as a Custom destination, and the API showing it all."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import httpx
import pytest

from mediaplane.app import create_app
from mediaplane.core.catalog import Registry
from mediaplane.core.ingest.nginx import NginxNotFound, find_nginx
from mediaplane.kit.ffmpeg import find_ffmpeg
from mediaplane.services.rig import spec as rig_spec
from tests.conftest import make_settings
from tests.fixtures.factories import admin_pat
from tests.fixtures.live import publish_refused, publishing, wait_for
from tests.fixtures.required import require_or_skip
from tests.fixtures.servers import free_port, serve_in_thread
from tests.services.rig.conftest import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def listening(port: int) -> bool:
    """Read from /proc: FFmpeg's `-listen 1` takes exactly one connection, so probing it would use it up."""
    wanted = f"0100007F:{port:04X}"
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return any(line.split()[1] == wanted and line.split()[3] == "0A" for line in lines)


@dataclass
class Server:
    api: str
    rtmp_port: int
    rig: str  # the instance's base URL
    token: str

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"}
        r = httpx.request(method, f"{self.rig}{path}", headers=headers, timeout=30, **kwargs)
        assert r.status_code == 200, r.text
        return r.json()["payload"]

    def publish_url(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.rtmp_port}/rig/{key}"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    port, rtmp_port = free_port(), free_port()
    settings = make_settings(
        tmp_path / "data",
        f"sqlite+aiosqlite:///{tmp_path / 'rig.db'}",
        port=port,
        rtmp_enabled=True,
        rtmp_port=rtmp_port,
        rtmp_heartbeat_seconds=1,
        ingest_node="node-a",
    )
    try:
        find_nginx(settings.nginx_path, settings.nginx_modules_dir)
    except NginxNotFound as exc:
        require_or_skip("nginx with the RTMP module", exc)
    registry = Registry([rig_spec])
    pat = admin_pat(settings, registry)
    with serve_in_thread(create_app(settings, registry=registry), port) as api:
        sat = httpx.post(f"{api}/servicetoken", headers={"x-pat-jwt": f"Bearer {pat}"}, json={"serviceId": "rig"})
        created = httpx.post(
            f"{api}/riginstance", headers={"x-jwt": f"Bearer {sat.json()['token']}"}, json={"name": "tv"}
        )
        assert created.status_code == 200, created.text
        rig = f"{api}/rig/admin-tv"
        account = {"username": "alice", "password": PASSWORD, "email": "alice@example.com"}
        assert httpx.post(f"{rig}/accounts/", json=account).status_code == 200
        login = httpx.post(f"{rig}/accounts/auth/local", json={"username": "alice", "password": PASSWORD})
        yield Server(api, rtmp_port, rig, login.json()["payload"]["token"])


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
    server: Server, receiver: tuple[str, Path, subprocess.Popen[bytes]]
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
