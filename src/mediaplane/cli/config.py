"""`mediaplane config show`: the CLI's connection and the server settings in effect here, secrets masked."""

from __future__ import annotations

import typer

from mediaplane.cli.profile import config_path
from mediaplane.cli.state import CliState, load_settings
from mediaplane.server_info import mask, masked_settings

config_app = typer.Typer(help="Show the configuration in effect.", no_args_is_help=True)


@config_app.command("show")
def show(ctx: typer.Context) -> None:
    """The server URL and PAT this CLI uses (and where each comes from), and the MEDIAPLANE_* settings."""
    state = CliState.of(ctx)
    connection = state.connection
    cli = {
        "url": connection.url,
        "urlSource": connection.url_source,
        "token": mask(connection.token),
        "tokenSource": connection.token_source,
        "configFile": str(config_path()),
    }
    settings = masked_settings(load_settings())

    def human() -> None:
        state.out.fields(cli, title="CLI")
        state.out.fields(settings, title="Settings (MEDIAPLANE_*)")

    state.out.result({"cli": cli, "settings": settings}, human)


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config", rich_help_panel="Operator")
