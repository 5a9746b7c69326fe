"""Operator commands: `mediaplane routes` and `mediaplane version`."""

from __future__ import annotations

import typer

from mediaplane import __version__
from mediaplane.cli.state import CliState, load_settings
from mediaplane.server_info import INSTANCE_ROUTES, platform_routes

PANEL = "Operator"


def routes(ctx: typer.Context) -> None:
    """List the platform's HTTP routes."""
    from mediaplane.app import create_app

    state = CliState.of(ctx)
    # The app as `serve` builds it; no database is opened.
    rows = platform_routes(create_app(load_settings()).platform)

    def human() -> None:
        state.out.table(
            ["Method", "Path", "Summary", "Tags"],
            ([", ".join(r["methods"]), r["path"], r["summary"], ", ".join(r["tags"])] for r in rows),
            no_wrap=("Method", "Path"),
        )
        state.out.message(INSTANCE_ROUTES)

    state.out.result(rows, human)


def version(ctx: typer.Context) -> None:
    """Print the version."""
    state = CliState.of(ctx)
    state.out.result({"version": __version__}, lambda: state.out.line(f"mediaplane {__version__}"))


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(routes)
    app.command(rich_help_panel=PANEL)(version)
