"""`mediaplane gosd-agent`: a top-level command that gosd adds through `ServiceSpec.commands`."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import EntryPoint
from typing import Any

import pytest
import typer

from mediaplane.cli.errors import CliError
from mediaplane.cli.main import SERVICE_ENTRY_POINTS, service_commands
from mediaplane.core.catalog import ServiceSpec
from mediaplane.services.gosd.agent.cli import load_integration, parse_home


def _no_app() -> Any:
    raise AssertionError("the CLI never builds a service's app")


def _clashing() -> dict[str, typer.Typer]:
    return {"list": typer.Typer()}


clashing = ServiceSpec(id="clash", title="Clash", description="a built-in name", build_app=_no_app, commands=_clashing)


def test_gosd_adds_its_group_and_the_agent() -> None:
    found = [EntryPoint("gosd", "mediaplane.services.gosd:spec", SERVICE_ENTRY_POINTS)]
    commands = service_commands(found, taken={"list"})
    assert sorted(commands) == ["gosd", "gosd-agent"]
    assert commands["gosd-agent"].name == "gosd-agent"
    assert {p.name for p in commands["gosd-agent"].params} >= {"server", "node", "secret", "sim", "speed", "video"}


def test_a_clashing_command_name_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    found = [EntryPoint("clash", f"{__name__}:clashing", SERVICE_ENTRY_POINTS)]
    assert service_commands(found, taken={"list"}) == {}
    assert "`mediaplane list` is already a command" in caplog.text


def test_help_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mediaplane", "gosd-agent", "--help"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and "--secret" in done.stdout and "--telemetry-interval" in done.stdout


def test_bad_options_are_errors() -> None:
    with pytest.raises(CliError, match="LAT,LNG"):
        parse_home("north")
    assert parse_home("1.5,-2") == (1.5, -2.0)
    with pytest.raises(CliError, match="module:attribute"):
        load_integration("nope")
    with pytest.raises(CliError, match="a Handlers or a Device"):
        load_integration("mediaplane:__version__")
    assert load_integration(f"{__name__}:integration") is integration


from mediaplane.services.gosd.agent import Handlers  # noqa: E402

integration = Handlers()
