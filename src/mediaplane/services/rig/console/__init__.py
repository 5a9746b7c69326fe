"""rig's dashboard in the web console: the instance's streams with their live state, a live preview,
destinations with the relay's state, enabling and disabling streams and destinations, key rotation, the ingest
settings for OBS, and the instance's rig accounts (created, a password set).

The signed-in tenant user owns the instance, so the dashboard acts for the instance as a whole: it shows the
streams of every rig account of the instance and changes a stream through the service layer as its own
account would (the same checks and the same effects on a live session as the rig API)."""

from __future__ import annotations

from pathlib import Path

from mediaplane.console import ConsolePlugin

HERE = Path(__file__).parent


def console_plugin() -> ConsolePlugin:
    from mediaplane.services.rig.console.routes import router

    return ConsolePlugin(label="Streams", router=router, templates=HERE / "templates")
