"""The platform's RTMP ingest: real nginx-rtmp, real FFmpeg publishers, a test service's handler deciding."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediaplane.app import MediaplaneApp, create_app
from mediaplane.config import Settings
from mediaplane.core.catalog import Registry
from mediaplane.core.ingest import ingest_control, preview_playlist, preview_segment, want_preview
from mediaplane.core.ingest import session as session_module
from mediaplane.core.ingest.manager import IngestManager, current_manager
from mediaplane.core.ingest.preview import mirror_prefix
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


@contextlib.contextmanager
def running_ingest(tmp_path: Path, server: str) -> Iterator[Ingest]:
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
        rtmp_server=server,
    )
    app = create_app(settings, registry=Registry([lives_spec(handler)]))
    with serve_in_thread(app, port) as url:
        live = Ingest(app, url, settings, handler)
        assert live.manager.supervisor.pid is not None, "the RTMP ingest did not start (see the log)"
        yield live


@pytest.fixture(params=["python", "nginx"])
def ingest(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Ingest]:
    """The ingest with publishers taken in process (the default), and with nginx taking them."""
    with running_ingest(tmp_path, request.param) as live:
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
    monkeypatch.setattr(session_module, "PREVIEW_HOLD", 3.0)
    runtime = ingest.app.runtime

    def on_loop(coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, _loop_of(ingest)).result(10)

    def playlist() -> Any:
        return on_loop(preview_playlist(runtime, "lives", "goodkey"))

    with publishing(ingest.rtmp("goodkey")):
        wait_for(lambda: ingest.live_keys() == {"goodkey"})
        time.sleep(2)
        assert playlist() is None  # nobody watches: nothing written
        session = ingest.manager.sessions[("lives", "goodkey")]
        on_loop(want_preview(runtime, "lives", "goodkey"))
        text, prefix = wait_for(lambda: (found := playlist()) and prefix_in(found) and found, timeout=20)
        assert "goodkey" not in text and "goodkey" not in prefix
        number = next(line for line in text.splitlines() if line.startswith(prefix))[len(prefix) : -len(".ts")]
        assert on_loop(preview_segment(runtime, "lives", "goodkey", number))
        assert session.previewing and session.states() == []  # the preview is no output of the service's

        # Asked from a process without the ingest: the preview is copied into the storage as well.
        on_loop(ingest_control(runtime).send("lives", "goodkey", "preview", mirror=True))
        copy = mirror_prefix("lives", prefix[:-1])
        wait_for(lambda: any(i.key.endswith(".m3u8") for i in on_loop(runtime.storage.list(copy))), timeout=20)
        wait_for(lambda: not session.previewing, timeout=15)  # no one asked again
        wait_for(lambda: not on_loop(runtime.storage.list(copy)), timeout=10)  # the copy went with it
        wait_for(lambda: not session._relay.states(), timeout=10)


def prefix_in(found: tuple[str, str]) -> bool:
    text, prefix = found
    return any(line.startswith(prefix) for line in text.splitlines())


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
    wait_for(lambda: ("ref-good", "dropped") in ingest.handler.called("ended"))  # told once the relay stopped


def test_a_revoked_key_is_dropped_at_the_next_heartbeat(ingest: Ingest) -> None:
    with publishing(ingest.rtmp("goodkey")) as proc:
        wait_for(lambda: ingest.live_keys() == {"goodkey"})
        ingest.handler.revoked.add("goodkey")
        wait_for(lambda: proc.poll() is not None, timeout=20)
    wait_for(lambda: ingest.handler.called("ended"))


def test_nginx_dying_ends_every_session_and_comes_back(tmp_path: Path) -> None:
    with running_ingest(tmp_path, "nginx") as ingest:
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


def test_publishers_taken_in_process_outlive_nginx_dying(tmp_path: Path) -> None:
    with running_ingest(tmp_path, "python") as ingest, publishing(ingest.rtmp("goodkey")) as proc:
        wait_for(lambda: ingest.live_keys() == {"goodkey"})
        pid = ingest.manager.supervisor.pid
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # it only writes previews here
        wait_for(lambda: ingest.manager.supervisor.pid not in (None, pid), timeout=20)
        assert proc.poll() is None and ingest.live_keys() == {"goodkey"}
        assert ingest.handler.called("ended") == []


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
