"""eyeson's dashboard in the web console: the rooms live now with their participants, a room's recording and
broadcast started and stopped, messages sent to a meeting and the meeting ended, the owner's join link to the
room's GUI and join links for others, recordings to play or download, snapshots to view, the team's webhook with
its last delivery, and a new API key.

The signed-in tenant user owns the instance (its API key is theirs), so the dashboard acts as the API key does,
through eyeson's own service layer: the same rules and the same effects on a running room as the eyeson API."""

from __future__ import annotations

from pathlib import Path

from mediaplane.console import ConsolePlugin

HERE = Path(__file__).parent


def console_plugin() -> ConsolePlugin:
    from mediaplane.services.eyeson.console.routes import router

    return ConsolePlugin(label="Rooms", router=router, templates=HERE / "templates")
