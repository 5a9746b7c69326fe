"""`mediaplane serve` itself: first start prints the admin PAT once, later starts do not, a taken port fails."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import httpx

from tests.cli.conftest import Platform
from tests.cli.processes import EXPORTED_TOKEN, LISTENING, Cli, ServerProcess, clean_env
from tests.console.signin import console_sign_in

CONSOLE_PASSWORD = re.compile(r"Password:\s+(\S+)")


def serve(tmp_path: Path, data: Path, name: str, port: int = 0) -> ServerProcess:
    args = [sys.executable, "-m", "mediaplane", "serve", "--host", "127.0.0.1", "--port", str(port)]
    args += ["--data", str(data), "--no-workers"]
    return ServerProcess(args, clean_env(tmp_path / "home"), tmp_path, tmp_path / f"{name}.log").start()


def test_first_start_then_restart_then_port_taken(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = serve(tmp_path, data, "first")
    try:
        url = first.wait_listening()
        output = first.output
        exported = EXPORTED_TOKEN.search(output)
        assert exported, output
        token = exported.group(1)
        assert f"export MEDIAPLANE_URL={url}" in output and "first start" in output
        me = httpx.get(f"{url}/me", headers={"x-pat-jwt": f"Bearer {token}"}, timeout=5).json()
        assert me["tenantId"] == "admin"
        # The admin user's console password, shown once beside the PAT with the console's URL.
        assert f"Console:   {url}/console/" in output and "tenant admin, user admin" in output
        password = CONSOLE_PASSWORD.search(output)
        assert password, output
        assert console_sign_in(url, "admin", password.group(1)) == 303
    finally:
        first.stop()
    assert "Traceback" not in first.output

    port = int(url.rsplit(":", 1)[1])
    second = serve(tmp_path, data, "second", port)
    try:
        assert second.wait_listening() == url
        assert "MEDIAPLANE_ACCESS_TOKEN" not in second.output and "Password:" not in second.output

        taken = serve(tmp_path, tmp_path / "other", "taken", port)
        assert taken.wait_exit() == 1
        assert f"Port {port} on 127.0.0.1 is already in use" in " ".join(taken.output.split())
        assert "Traceback" not in taken.output and not LISTENING.search(taken.output)
        assert not (tmp_path / "other" / "mediaplane.db").exists()
    finally:
        second.stop()


def test_bad_settings_fail_cleanly(cli: Cli) -> None:
    cli.fails("serve", "--port", "1", env={"MEDIAPLANE_WORKERS": "-3"}, message="Invalid settings: workers")


def test_worker_runs_until_sigterm(platform: Platform, tmp_path: Path) -> None:
    args = [sys.executable, "-m", "mediaplane", "worker", "--data", str(platform.data_dir), "--workers", "1"]
    worker = ServerProcess(args, clean_env(tmp_path / "home"), tmp_path, tmp_path / "worker.log").start()
    try:
        worker.wait_for("worker process running")
    finally:
        worker.stop()
    assert worker.proc is not None and worker.proc.returncode == 0, worker.output
