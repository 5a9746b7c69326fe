"""gosd's dashboard in the web console, what `mediaplane gosd` does: the fleet's nodes online or offline with
their latest status (added from a form with their agent secret, given a new secret, deleted), a node's points
and the live video of its livestream points, plans (their Lua and extra, created from a form), jobs run from a
plan with their live state, cancel (one job or all of a plan's), and a job's log.

gosd has users of its own; the signed-in tenant user owns the instance, so the dashboard acts for the instance
as a whole through gosd's own service layer (the same checks and effects as gosd's API)."""

from __future__ import annotations

from pathlib import Path

from mediaplane.console import ConsolePlugin

HERE = Path(__file__).parent


def console_plugin() -> ConsolePlugin:
    from mediaplane.services.gosd.console.routes import router

    return ConsolePlugin(label="Fleet", router=router, templates=HERE / "templates")
