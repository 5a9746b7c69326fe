"""The platform's RTMP ingest: real nginx-rtmp, real FFmpeg publishers, a test service's handler deciding."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from mediaplane.app import MediaplaneApp, create_app
from mediaplane.config import Settings
from mediaplane.core.catalog import Registry
from mediaplane.core.ingest import ingest_control, preview_playlist, preview_segment, want_preview
from mediaplane.core.ingest import session as session_module
from mediaplane.core.ingest.manager import IngestManager, current_manager
from tests.conftest import make_settings
from tests.fixtures.live import RecordingIngest, lives_spec, publish_refused, publishing, wait_for
from tests.fixtures.servers import free_port, serve_in_thread


@dataclass
class Ingest:
    app: MediaplaneApp
    url: str
    settings: Settings
    handler: RecordingIngest

    def rtmp(self, key: str) -> str:
        return f"rtmp://127.0.0.1:{self.settings.rtmp_port}/lives/{key}"

    @property
    def manager(self) -> IngestManager:
        manager = current_manager(self.app.runtime)
        assert manager is not None
        return manager

    def live_keys(self) -> set[str]:
        return {key for _, key in self.manager.sessions}


@pytest.fixture
def ingest(tmp_path: Path) -> Iterator[Ingest]:
    handler = RecordingIngest(keys={"goodkey": "ref-good", "offkey": "ref-off"}, inactive={"offkey"})
    port = free_port()
    settings = make_settings(
        tmp_path / "data",
        f"sqlite+aiosqlite:///{tmp_path / 'ingest.db'}",
        port=port,
        rtmp_enabled=True,
        rtmp_port=free_port(),
        rtmp_heartbeat_seconds=1,
        ingest_node="node-a",
    )
    app = create_app(settings, registry=Registry([lives_spec(handler)]))
    with serve_in_thread(app, port) as url:
        live = Ingest(app, url, settings, handler)
        assert live.manager.supervisor.pid is not None, "the RTMP ingest did not start (see the log)"
        yield live


def test_ingest_resets_its_node_and_writes_its_config(ingest: Ingest) -> None:
    assert ingest.handler.called("reset") == ["node-a"]
    conf = (ingest.settings.data_dir / "ingest" / "nginx.conf").read_text()
    assert "application lives" in conf and "deny play all;" in conf and "on_publish http://127.0.0.1:" in conf


def test_unknown_and_inactive_keys_are_refused(ingest: Ingest) -> None:
    refused, _ = publish_refused(ingest.rtmp("nosuchkey"))
    assert refused
    refused, _ = publish_refused(ingest.rtmp("offkey"))
    assert refused
    assert ingest.handler.called("admit") == ["nosuchkey", "offkey"]
    assert ingest.handler.called("ended") == []  # a refused publish never was a session


def test_a_publish_is_live_until_the_publisher_stops(ingest: Ingest) -> None:
    with publishing(ingest.rtmp("goodkey")):
        wait_for(lambda: ingest.live_keys() == {"goodkey"})
        wait_for(lambda: ingest.handler.called("heartbeat"), timeout=20)
    wait_for(lambda: ingest.handler.called("ended") == [("ref-good", "done")])
    assert ingest.live_keys() == set()


def test_the_preview_is_written_only_while_watched(ingest: Ingest, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "PREVIEW_HOLD", 2.0)
    settings = ingest.settings
    with publishing(ingest.rtmp("goodkey")):
        wait_for(lambda: ingest.live_keys() == {"goodkey"})
        time.sleep(2)
        assert preview_playlist(settings, "lives", "goodkey") is None  # nobody watches: nothing written
        session = ingest.manager.sessions[("lives", "goodkey")]
        asyncio.run_coroutine_threadsafe(want_preview(ingest.app.runtime, "lives", "goodkey"), _loop_of(ingest)).result(
            10
        )
        path, prefix = wait_for(lambda: preview_playlist(settings, "lives", "goodkey"), timeout=20)
        assert "goodkey" not in path.name and prefix == path.stem + "-"
        segment = wait_for(lambda: preview_segment(settings, "lives", "goodkey", _first_segment(path, prefix)))
        assert segment.stat().st_size > 0
        assert session.previewing and session.states() == []  # the preview is no output of the service's
        wait_for(lambda: not session.previewing, timeout=10)  # no one asked again
        wait_for(lambda: not session._relay.states(), timeout=10)


def _first_segment(playlist: Path, prefix: str) -> str:
    names = [line for line in playlist.read_text().splitlines() if line.startswith(prefix)]
    return names[0][len(prefix) : -len(".ts")] if names else "none"


def test_a_second_publisher_on_a_live_key_is_refused(ingest: Ingest) -> None:
    with publishing(ingest.rtmp("goodkey")) as first:
        wait_for(lambda: ingest.live_keys() == {"goodkey"})
        refused, _ = publish_refused(ingest.rtmp("goodkey"))
        assert refused
        assert first.poll() is None  # the first one goes on
        assert ingest.live_keys() == {"goodkey"}
        assert ingest.handler.called("ended") == []


def test_a_drop_sent_over_the_bus_disconnects_the_publisher(ingest: Ingest) -> None:
    with publishing(ingest.rtmp("goodkey")) as proc:
        wait_for(lambda: ingest.live_keys() == {"goodkey"})
        control = ingest_control(ingest.app.runtime)
        future = asyncio.run_coroutine_threadsafe(control.send("lives", "goodkey", "drop"), _loop_of(ingest))
        future.result(10)
        wait_for(lambda: proc.poll() is not None, timeout=20)
    assert ("ref-good", "dropped") in ingest.handler.called("ended")


def test_a_revoked_key_is_dropped_at_the_next_heartbeat(ingest: Ingest) -> None:
    with publishing(ingest.rtmp("goodkey")) as proc:
        wait_for(lambda: ingest.live_keys() == {"goodkey"})
        ingest.handler.revoked.add("goodkey")
        wait_for(lambda: proc.poll() is not None, timeout=20)
    wait_for(lambda: ingest.handler.called("ended"))


def test_nginx_dying_ends_every_session_and_comes_back(ingest: Ingest) -> None:
    with publishing(ingest.rtmp("goodkey")) as proc:
        wait_for(lambda: ingest.live_keys() == {"goodkey"})
        pid = ingest.manager.supervisor.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: ("ref-good", "lost") in ingest.handler.called("ended"))
        wait_for(lambda: proc.poll() is not None)
    wait_for(lambda: ingest.manager.supervisor.pid not in (None, pid), timeout=20)
    with publishing(ingest.rtmp("goodkey")):
        wait_for(lambda: ingest.live_keys() == {"goodkey"}, timeout=20)


def test_hooks_need_the_secret_token(ingest: Ingest) -> None:
    form = {"call": "publish", "app": "lives", "name": "goodkey", "clientid": "1"}
    answer = httpx.post(f"{ingest.url}/_ingest/not-the-token/publish", data=form)
    assert answer.status_code == 403
    answer = httpx.post(f"{ingest.manager.hook_base}/nonsense", data=form)
    assert answer.status_code == 404
    assert ingest.handler.called("admit") == []


def _loop_of(ingest: Ingest) -> asyncio.AbstractEventLoop:
    task = ingest.manager._listener
    assert task is not None
    return task.get_loop()
