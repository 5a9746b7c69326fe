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


def test_plans_from_a_lua_file_jobs_cancel_and_logs(cli: Cli, tmp_path: Path) -> None:
    env = {"MEDIAPLANE_GOSD_USERNAME": "pilot", "MEDIAPLANE_GOSD_PASSWORD": PASSWORD}
    env["MEDIAPLANE_GOSD_CLIENT_SECRET"] = SECRET
    node = cli.ok("gosd", "nodes", "create", "fleet", "--name", "Lonely", "--json", env=env).json()
    script = tmp_path / "flow.lua"
    script.write_text('function main(plan) NewNode(plan.nodeID):SyncCall("takeoff") end\n')
    args = ["gosd", "plans", "create", "fleet", "--name", "survey", "--node", str(node["id"]), "--lua", str(script)]
    plan = cli.ok(*args, "-e", "lat=22.54", "--json", env=env).json()
    assert set(plan["files"]) == {"lua"} and plan["extra"] == {"lat": "22.54"}
    plan_id = str(plan["id"])

    # No agent runs for this node: the job fails, and says why; --wait exits 1.
    failed = cli.fails("gosd", "run", "fleet", plan_id, "--wait", "--log", message="failed", env=env)
    assert "offline" in failed.output or "broker" in failed.output, failed.output
    jobs = cli.ok("gosd", "jobs", "fleet", plan_id, "--json", env=env).json()
    assert [(j["job_id"], j["state"]) for j in jobs] == [(1, "failed")]
    assert "failed" in cli.ok("gosd", "jobs", "fleet", plan_id, env=env).stdout
    assert cli.ok("gosd", "logs", "fleet", plan_id, "1", env=env).stdout.strip()

    queued = cli.ok("gosd", "run", "fleet", plan_id, "-e", "k=v", "--json", env=env).json()
    assert queued["job_id"] == 2 and queued["extra"] == {"k": "v"}
    cli.ok("gosd", "cancel", "fleet", plan_id, "2", env=env)
    cli.ok("gosd", "cancel", "fleet", plan_id, env=env)
    state = cli.ok("gosd", "jobs", "fleet", plan_id, "--json", env=env).json()[1]["state"]
    assert state in ("cancelled", "failed")  # failed when the worker took it before the cancel
    cli.fails("gosd", "logs", "fleet", plan_id, "9", message="No job 9", env=env)
