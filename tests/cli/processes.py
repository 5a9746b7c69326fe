"""Runs the CLI and the server as subprocesses, the way people run them."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import httpx

from tests.fixtures.servers import free_port

LISTENING = re.compile(r"mediaplane listening on (http://\S+)")
EXPORTED_TOKEN = re.compile(r"export MEDIAPLANE_ACCESS_TOKEN=(\S+)")
JWT = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
CLI_TIMEOUT = 60


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """The caller's environment without any mediaplane/OSC settings, with its own home and config dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIAPLANE_", "OSC_"))}
    env.pop("PYTHONUNBUFFERED", None)  # output must reach a log file without it
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), MEDIAPLANE_ENV="dev", COLUMNS="200")
    env.update(MEDIAPLANE_PASSWORD_HASH="argon2id-fast")  # many users are made (dev only)
    env.update(MEDIAPLANE_RTMP_ENABLED="false")  # tests that publish turn the ingest on, on a free port
    env.update(MEDIAPLANE_MQTT_PORT=str(free_port()))  # each serve's own broker, never another test's
    env.update(extra)
    return env


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


@dataclass
class Cli:
    """`python -m mediaplane ...` with a fixed environment and working directory."""

    env: dict[str, str]
    cwd: Path

    def __call__(self, *args: str, env: dict[str, str] | None = None, input: str | None = None) -> Result:
        merged = {**self.env, **(env or {})}
        proc = subprocess.run(
            [sys.executable, "-m", "mediaplane", *args],
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            capture_output=True,
            text=True,
            env={k: v for k, v in merged.items() if v is not None},
            cwd=self.cwd,
            timeout=CLI_TIMEOUT,
        )
        return Result(proc.returncode, proc.stdout, proc.stderr)

    def ok(self, *args: str, **kwargs: Any) -> Result:
        result = self(*args, **kwargs)
        assert result.code == 0, f"mediaplane {' '.join(args)} exited {result.code}:\n{result.output}"
        assert "Traceback" not in result.output, result.output
        return result

    def fails(self, *args: str, message: str, code: int = 1, **kwargs: Any) -> Result:
        """The command fails cleanly: the exit code, the message, and never a traceback."""
        result = self(*args, **kwargs)
        assert result.code == code, f"mediaplane {' '.join(args)} exited {result.code}:\n{result.output}"
        assert "Traceback" not in result.output, result.output
        assert message in " ".join(result.output.split()), result.output
        return result


@dataclass
class ServerProcess:
    """A server subprocess whose output goes to a log file (never a pipe that could fill up)."""

    args: list[str]
    env: dict[str, str]
    cwd: Path
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None
    _log: TextIO | None = field(default=None, repr=False)

    def start(self) -> ServerProcess:
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            self.args, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=self.env, cwd=self.cwd
        )
        return self

    @property
    def output(self) -> str:
        return self.log_path.read_text()

    def wait_listening(self, timeout: float = 30) -> str:
        """The URL from the `mediaplane listening on` line, once /health answers there."""
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = LISTENING.search(self.output)
            if found:
                url = found.group(1)
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    return url
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited with {self.proc.returncode}:\n{self.output}")
            time.sleep(0.05)
        raise AssertionError(f"server did not start in {timeout} s:\n{self.output}")

    def wait_for(self, text: str, timeout: float = 30) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while text not in self.output:
            if self.proc.poll() is not None:
                raise AssertionError(f"process exited with {self.proc.returncode}:\n{self.output}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{text!r} did not appear in {timeout} s:\n{self.output}")
            time.sleep(0.05)

    def wait_exit(self, timeout: float = 30) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        finally:
            self.close_log()

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop in time."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.close_log()

    def close_log(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None
