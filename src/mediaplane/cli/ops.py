"""Operator commands: `mediaplane routes` and `mediaplane version`."""

from __future__ import annotations

from typing import Any

import typer

from mediaplane import __version__
from mediaplane.cli.state import CliState, load_settings

PANEL = "Operator"
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def platform_routes() -> list[dict[str, Any]]:
    """The platform app's routes, built the way `serve` builds it (no database is opened).

    Read from the OpenAPI document (routers are included lazily, so `app.routes` does not list them),
    then the routes kept out of it (the docs pages).
    """
    from mediaplane.app import create_app

    platform = create_app(load_settings()).platform
    rows: list[dict[str, Any]] = []
    for path, operations in platform.openapi().get("paths", {}).items():
        for method, operation in operations.items():
            if method.upper() not in HTTP_METHODS:
                continue
            rows.append(
                {
                    "path": path,
                    "methods": [method.upper()],
                    "summary": operation.get("summary", ""),
                    "tags": operation.get("tags", []),
                }
            )
    documented = {row["path"] for row in rows}
    for route in platform.routes:
        path = getattr(route, "path", None)
        if path and path not in documented:
            methods = sorted(set(getattr(route, "methods", None) or []) - {"HEAD"})
            rows.append({"path": path, "methods": methods, "summary": "", "tags": []})
    return rows


def routes(ctx: typer.Context) -> None:
    """List the platform's HTTP routes."""
    state = CliState.of(ctx)
    rows = platform_routes()

    def human() -> None:
        state.out.table(
            ["Method", "Path", "Summary", "Tags"],
            ([", ".join(r["methods"]), r["path"], r["summary"], ", ".join(r["tags"])] for r in rows),
            no_wrap=("Method", "Path"),
        )
        state.out.message(
            "Instance APIs are served at /{serviceId}/{tenant}-{name}/... "
            "(or {tenant}-{name}.{serviceId}.<base domain>) by each service."
        )

    state.out.result(rows, human)


def version(ctx: typer.Context) -> None:
    """Print the version."""
    state = CliState.of(ctx)
    state.out.result({"version": __version__}, lambda: state.out.line(f"mediaplane {__version__}"))


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(routes)
    app.command(rich_help_panel=PANEL)(version)
