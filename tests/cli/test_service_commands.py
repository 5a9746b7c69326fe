"""Each service's own command group (`mediaplane <serviceId> ...`), and why a broken one never breaks the CLI."""

from __future__ import annotations

import logging
from importlib.metadata import EntryPoint
from typing import Any

import pytest
import typer

from mediaplane.cli.main import SERVICE_ENTRY_POINTS, SERVICES_PANEL, service_commands
from mediaplane.core.catalog import ServiceSpec
from tests.cli.processes import Cli


def _no_app() -> Any:
    raise AssertionError("the CLI never builds a service's app")


def _failing_cli() -> typer.Typer:
    raise RuntimeError("boom")


def _small_cli() -> typer.Typer:
    app = typer.Typer(add_completion=False)

    @app.command()
    def hello() -> None:
        typer.echo("hello")

    @app.command()
    def bye() -> None:
        typer.echo("bye")

    return app


failing = ServiceSpec(
    id="failing", title="Failing", description="cli factory raises", build_app=_no_app, cli=_failing_cli
)
clashing = ServiceSpec(id="list", title="Clashing", description="a built-in name", build_app=_no_app, cli=_small_cli)
quiet = ServiceSpec(id="quiet", title="Quiet", description="no commands", build_app=_no_app)
small = ServiceSpec(id="small", title="Small", description="two commands", build_app=_no_app, cli=_small_cli)


def entry(name: str, value: str) -> EntryPoint:
    return EntryPoint(name, value, SERVICE_ENTRY_POINTS)


def test_broken_plugins_are_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    here = __name__
    found = [
        entry("missing", "tests.cli.no_such_module:spec"),
        entry("notaspec", "mediaplane:__version__"),
        entry("failing", f"{here}:failing"),
        entry("clashing", f"{here}:clashing"),
        entry("quiet", f"{here}:quiet"),
        entry("small", f"{here}:small"),
        entry("encore", "mediaplane.services.encore:spec"),
    ]
    with caplog.at_level(logging.WARNING, logger="mediaplane.cli.main"):
        commands = service_commands(found, taken={"list", "create"})
    assert sorted(commands) == ["encore", "small"]
    assert commands["small"].name == "small" and commands["small"].rich_help_panel == SERVICES_PANEL
    assert sorted(commands["small"].commands) == ["bye", "hello"]
    warned = caplog.text
    for name in ("missing", "notaspec", "failing", "clashing"):
        assert f"service {name} are not available" in warned, warned
    assert "boom" in warned and "`mediaplane list` is already a command" in warned
    assert "quiet" not in warned


def test_the_encore_group_is_listed_and_runs(cli: Cli) -> None:
    assert "encore" in cli.ok("--help").stdout
    assert "enqueue" in cli.ok("encore", "--help").stdout
    cli.fails("encore", "list", "q", message="No access token")
    cli.fails("nosuchcommand", message="No such command", code=2)
