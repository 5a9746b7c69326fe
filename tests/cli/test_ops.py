"""Operator commands: `routes` and `config show`."""

from __future__ import annotations

from tests.cli.processes import Cli


def test_routes(cli: Cli) -> None:
    routes = {(r["path"], m) for r in cli.ok("routes", "--json").json() for m in r["methods"]}
    assert {("/servicetoken", "POST"), ("/catalog", "GET"), ("/{service_id}instance", "POST")} <= routes


def test_config_show_masks_secrets(cli: Cli) -> None:
    secret = "s" * 40
    env = {
        "MEDIAPLANE_SECRET_KEY": secret,
        "MEDIAPLANE_DATABASE_URL": "postgresql+asyncpg://mp:hunter2@db:5432/mp",
        "MEDIAPLANE_PORT": "9090",
        "MEDIAPLANE_ACCESS_TOKEN": "t" * 30,
    }
    result = cli.ok("config", "show", "--json", env=env)
    assert secret not in result.stdout and "hunter2" not in result.stdout and "t" * 30 not in result.stdout
    shown = result.json()
    assert shown["settings"]["port"] == 9090
    assert shown["settings"]["database_url"] == "postgresql+asyncpg://mp:****@db:5432/mp"
    assert shown["cli"]["tokenSource"] == "env MEDIAPLANE_ACCESS_TOKEN"


def test_config_show_reports_bad_settings(cli: Cli) -> None:
    cli.fails("config", "show", env={"MEDIAPLANE_PORT": "not-a-port"}, message="Invalid settings: port")
