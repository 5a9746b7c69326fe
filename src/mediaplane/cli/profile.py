"""The saved CLI config (`mediaplane login`): server URL and PAT in ~/.config/mediaplane/config.json."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mediaplane.cli.errors import CliError

CONFIG_NAME = "config.json"


def config_path() -> Path:
    """$XDG_CONFIG_HOME/mediaplane/config.json (an unset or relative XDG_CONFIG_HOME means ~/.config)."""
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".config"
    return base / "mediaplane" / CONFIG_NAME


@dataclass(frozen=True)
class SavedConfig:
    url: str | None = None
    token: str | None = None


def load_config(path: Path | None = None) -> SavedConfig:
    path = path or config_path()
    try:
        raw = path.read_text()
    except FileNotFoundError:
        return SavedConfig()
    except OSError as exc:
        raise CliError(f"Cannot read {path}: {exc.strerror}") from exc
    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise CliError(f"{path} is not valid JSON; fix it or run `mediaplane login` again") from exc
    if not isinstance(data, dict):
        raise CliError(f"{path} must hold a JSON object")
    url, token = data.get("url"), data.get("token")
    return SavedConfig(
        url=url if isinstance(url, str) and url else None,
        token=token if isinstance(token, str) and token else None,
    )


def save_config(config: SavedConfig, path: Path | None = None) -> Path:
    """Writes the saved connection (it holds a PAT) privately."""
    path = path or config_path()
    return write_private_json(path, {"url": config.url, "token": config.token})


def read_saved_json(path: Path) -> Any:
    """What a file of saved logins holds, None when there is none; a CliError when it cannot be read."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CliError(f"Cannot read {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise CliError(f"{path} is not valid JSON; delete it and log in again") from exc


def write_private_json(path: Path, data: object) -> Path:
    """Writes atomically with mode 0600 (the directory 0700), for files that hold tokens."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".json")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as file:
                json.dump(data, file, indent=2)
                file.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise CliError(f"Cannot write {path}: {exc.strerror}") from exc
    return path
