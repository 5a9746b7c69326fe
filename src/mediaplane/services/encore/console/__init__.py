"""encore's dashboard in the web console: jobs with live progress, a job's outputs with a player, enqueue, cancel;
the profiles and the files of the instance's storage (list, download, upload)."""

from __future__ import annotations

from pathlib import Path

from mediaplane.console import ConsolePlugin

HERE = Path(__file__).parent


def console_plugin() -> ConsolePlugin:
    from mediaplane.services.encore.console.routes import router

    return ConsolePlugin(label="Jobs", router=router, templates=HERE / "templates")
