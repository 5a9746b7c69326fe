"""`mediaplane config show`: the CLI's connection and the server settings in effect here, secrets masked."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import typer

from mediaplane.cli.output import mask
from mediaplane.cli.profile import config_path
from mediaplane.cli.state import CliState, load_settings

if TYPE_CHECKING:
    from mediaplane.config import Settings

SECRET_FIELDS = frozenset({"secret_key", "s3_access_key_id", "s3_secret_access_key"})
URL_FIELDS = frozenset({"database_url", "redis_url"})

config_app = typer.Typer(help="Show the configuration in effect.", no_args_is_help=True)


def mask_url(url: str | None) -> str | None:
    """Hides the password in a database or Redis URL."""
    if not url:
        return url
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:****@{parts.hostname or ''}"
    if parts.port is not None:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def masked_settings(settings: Settings) -> dict[str, Any]:
    data: dict[str, Any] = settings.model_dump(mode="json")
    for key in SECRET_FIELDS:
        data[key] = mask(data.get(key))
    for key in URL_FIELDS:
        data[key] = mask_url(data.get(key))
    if settings.secret_key is None:
        data["secret_key"] = f"(kept in {settings.data_dir / 'secret.key'})"
    data["effective_database_url"] = mask_url(settings.resolved_database_url)
    data["effective_base_url"] = settings.base_url
    return data


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
