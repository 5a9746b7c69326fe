"""What every command shares: where the server is, the caller's PAT, the output mode, local settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mediaplane.cli.errors import CliError
from mediaplane.cli.output import Output
from mediaplane.cli.profile import SavedConfig, load_config

if TYPE_CHECKING:
    from mediaplane.cli.client import PlatformClient
    from mediaplane.config import Settings

DEFAULT_URL = "http://127.0.0.1:8080"
URL_ENV = "MEDIAPLANE_URL"
TOKEN_ENVS = ("MEDIAPLANE_ACCESS_TOKEN", "OSC_ACCESS_TOKEN")
DATA_HELP = "Data directory (default: MEDIAPLANE_DATA_DIR or ./mediaplane-data)"
NO_TOKEN = (
    "No access token: pass --token, set MEDIAPLANE_ACCESS_TOKEN (or OSC_ACCESS_TOKEN), "
    "or save one with `mediaplane login --url URL --token PAT`"
)


@dataclass(frozen=True)
class Connection:
    """The server and PAT a command uses, and where each came from (flag, env, config or default)."""

    url: str
    url_source: str
    token: str | None
    token_source: str | None

    @property
    def url_configured(self) -> bool:
        return self.url_source != "default"


def normalise_url(url: str) -> str:
    url = url.strip().rstrip("/")
    return url if "://" in url else f"http://{url}"


def resolve_connection(
    url_flag: str | None,
    token_flag: str | None,
    env: Mapping[str, str],
    saved: SavedConfig,
) -> Connection:
    """Precedence: flags, then environment, then the saved config, then the default URL."""
    if url_flag:
        url, url_source = url_flag, "flag"
    elif env.get(URL_ENV):
        url, url_source = env[URL_ENV], f"env {URL_ENV}"
    elif saved.url:
        url, url_source = saved.url, "config"
    else:
        url, url_source = DEFAULT_URL, "default"
    token: str | None = None
    token_source: str | None = None
    if token_flag:
        token, token_source = token_flag, "flag"
    else:
        for name in TOKEN_ENVS:
            if env.get(name):
                token, token_source = env[name], f"env {name}"
                break
        else:
            if saved.token:
                token, token_source = saved.token, "config"
    return Connection(normalise_url(url), url_source, token.strip() if token else None, token_source)


class CliState:
    """Built by the root callback from the global options; commands get it with `CliState.of(ctx)`."""

    def __init__(self, url_flag: str | None, token_flag: str | None, json_mode: bool) -> None:
        self.url_flag = url_flag
        self.token_flag = token_flag
        self.out = Output(json_mode)
        self._connection: Connection | None = None

    @staticmethod
    def of(ctx: typer.Context) -> CliState:
        state = ctx.find_root().obj
        if not isinstance(state, CliState):  # pragma: no cover - the root callback always sets it
            raise CliError("internal error: command run without the root callback")
        return state

    @property
    def json_mode(self) -> bool:
        return self.out.json_mode

    @property
    def connection(self) -> Connection:
        """Resolved on first use, so commands that need no server never read the saved config."""
        if self._connection is None:
            self._connection = resolve_connection(self.url_flag, self.token_flag, os.environ, load_config())
        return self._connection

    def require_token(self) -> str:
        token = self.connection.token
        if not token:
            raise CliError(NO_TOKEN)
        return token

    def client(self, *, token_required: bool = True) -> PlatformClient:
        from mediaplane.cli.client import PlatformClient

        token = self.require_token() if token_required else self.connection.token
        return PlatformClient(self.connection.url, token)


def load_settings(**overrides: Any) -> Settings:
    """Settings from MEDIAPLANE_* (and MEDIAPLANE_CONFIG) plus the flags given; bad values are a CliError."""
    from pydantic import ValidationError

    from mediaplane.config import ConfigError, Settings

    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'settings'}: {error['msg']}" for error in exc.errors()
        )
        raise CliError(f"Invalid settings: {problems}") from exc
    except ConfigError as exc:
        raise CliError(str(exc)) from exc


def prepare(settings: Settings) -> Settings:
    """Creates the data dir and loads (or makes) the secret; a weak secret or unusable dir is a CliError."""
    from mediaplane.config import ConfigError

    try:
        return settings.prepared()
    except ConfigError as exc:
        raise CliError(str(exc)) from exc
    except OSError as exc:
        raise CliError(f"Cannot use the data directory {settings.data_dir}: {exc.strerror or exc}") from exc


def existing_data_dir(path: Path) -> Path:
    if not path.is_dir():
        raise CliError(
            f"No data directory at {path}: start `mediaplane serve --data {path}` once to create it, "
            "or pass --data with the server's data directory"
        )
    return path
