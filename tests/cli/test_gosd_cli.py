"""`mediaplane gosd ...` against a real `mediaplane serve`: login (token saved), nodes and their secrets,
plans; the generated options of `mediaplane create gosd`."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mediaplane.services.gosd.cli_api import load_tokens, tokens_path
from tests.cli.processes import Cli
from tests.cli.test_rig_cli import start_server

PASSWORD = "Hop0nTh4tM4ng0Tree"
SECRET = "client-secret-0123456789"


@pytest.fixture(scope="module")
def cli(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cli]:
    base = tmp_path_factory.mktemp("gosd-cli")
    server, cli = start_server(base)
    try:
        options = ["-o", "username=pilot", "-o", f"password={PASSWORD}", "-o", f"clientSecret={SECRET}"]
        cli.ok("create", "gosd", "fleet", *options)
        yield cli
    finally:
        server.stop()
    assert "Traceback" not in server.output, server.output


def test_create_generates_what_is_not_given(cli: Cli) -> None:
    created = cli.ok("create", "gosd", "spare", "--json").json()
    assert len(created["password"]) >= 24 and len(created["clientSecret"]) >= 24 and created["clientId"]
    described = cli.ok("describe", "gosd", "spare", "--json").json()
    assert described["password"] == described["clientSecret"] == "********"


def test_login_nodes_and_plans(cli: Cli) -> None:
    cli.fails("gosd", "nodes", "list", "fleet", message="Not logged in to the gosd instance")
    cli.fails("gosd", "login", "fleet", "-u", "pilot", "--password", "wrong-password", "--client-secret", SECRET,
              message="invalid_grant")  # fmt: skip
    cli.ok("gosd", "login", "fleet", "-u", "pilot", "--client-secret", SECRET, input=f"{PASSWORD}\n")
    path = Path(cli.env["XDG_CONFIG_HOME"]) / "mediaplane" / tokens_path().name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(load_tokens(path)) == 1

    assert cli.ok("gosd", "nodes", "list", "fleet", "--json").json() == []
    args = ["gosd", "nodes", "create", "fleet", "--name", "Drone", "-p", "livestream_flv:front", "-p", "battery"]
    node = cli.ok(*args, "--secret", "--json").json()
    assert node["name"] == "Drone" and len(node["secret"]) == 32
    assert [p["type"] for p in node["points"]] == ["livestream_flv", "battery"]
    listed = cli.ok("gosd", "nodes", "list", "fleet").stdout
    assert "Drone" in listed and "livestream_flv" in listed
    rotated = cli.ok("gosd", "nodes", "rotate-secret", "fleet", str(node["id"])).stdout.strip()
    assert len(rotated) == 32 and rotated != node["secret"]

    assert cli.ok("gosd", "plans", "list", "fleet", "--json").json() == []
    cli.fails("gosd", "nodes", "delete", "fleet", str(node["id"]), message="without confirmation")
    cli.ok("gosd", "nodes", "delete", "fleet", str(node["id"]), "-y")
    assert cli.ok("gosd", "nodes", "list", "fleet", "--json").json() == []
    cli.fails("gosd", "nodes", "rotate-secret", "fleet", "12345", message="No node 12345")
    cli.ok("gosd", "logout", "fleet")
    cli.fails("gosd", "plans", "list", "fleet", message="Not logged in")


def test_environment_credentials_log_in_on_the_spot(cli: Cli) -> None:
    env = {"MEDIAPLANE_GOSD_USERNAME": "pilot", "MEDIAPLANE_GOSD_PASSWORD": PASSWORD}
    env["MEDIAPLANE_GOSD_CLIENT_SECRET"] = SECRET
    cli.ok("gosd", "logout", "fleet")
    assert cli.ok("gosd", "plans", "list", "fleet", "--json", env=env).json() == []
    # The spec's own curl example works against the same server.
    url = cli.env["MEDIAPLANE_URL"]
    found = httpx.get(f"{url}/gosd/admin-fleet/gosd/api/v2/ok")
    assert found.status_code == 200 and "ok" in found.json()
