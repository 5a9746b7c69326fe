"""One server for the CLI tests: the test-only `notes` service registered, tenants `admin` and `acme`."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.cli.processes import EXPORTED_TOKEN, Cli, Result, ServerProcess, clean_env

SERVE_SCRIPT = Path(__file__).with_name("serve_with_test_service.py")


@dataclass
class Platform:
    url: str
    data_dir: Path
    admin_token: str
    acme_token: str
    acme_created: Result  # `tenants create acme --data DIR --quiet`, the documented bootstrap
    home: Path
    cli: Cli  # MEDIAPLANE_URL set, acme's PAT in MEDIAPLANE_ACCESS_TOKEN

    def as_token(self, token: str) -> Cli:
        return Cli({**self.cli.env, "MEDIAPLANE_ACCESS_TOKEN": token}, self.cli.cwd)

    @property
    def anonymous(self) -> Cli:
        env = {k: v for k, v in self.cli.env.items() if k != "MEDIAPLANE_ACCESS_TOKEN"}
        return Cli(env, self.cli.cwd)


@pytest.fixture(scope="session")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    base = tmp_path_factory.mktemp("cli-platform")
    data, home = base / "data", base / "home"
    env = clean_env(home)
    server = ServerProcess(
        [sys.executable, str(SERVE_SCRIPT), "--host", "127.0.0.1", "--port", "0", "--data", str(data)],
        env,
        base,
        base / "server.log",
    ).start()
    try:
        url = server.wait_listening()
        exported = EXPORTED_TOKEN.search(server.output)
        assert exported, server.output
        # The documented bootstrap: a tenant made on the data dir while the server runs.
        created = Cli(env, base).ok("tenants", "create", "acme", "--data", str(data), "--quiet")
        acme = created.stdout.strip()
        cli = Cli({**env, "MEDIAPLANE_URL": url, "MEDIAPLANE_ACCESS_TOKEN": acme}, base)
        yield Platform(url, data, exported.group(1), acme, created, home, cli)
    finally:
        server.stop()


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """No server, no token, no saved config: a fresh home in a fresh directory."""
    return Cli(clean_env(tmp_path / "home"), tmp_path)
