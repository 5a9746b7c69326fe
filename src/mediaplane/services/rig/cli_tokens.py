"""Where `mediaplane rig login` keeps its tokens: one rig login per instance URL, beside the CLI's config.

rig's API has accounts of its own (the platform's PAT and SAT only find the instance), so the rig token a
login returns is saved here, in `rig-tokens.json` (mode 0600: it holds bearer tokens), keyed by the
instance's URL.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mediaplane.cli.errors import CliError
from mediaplane.cli.profile import config_path, read_saved_json, write_private_json

TOKENS_NAME = "rig-tokens.json"


def tokens_path() -> Path:
    return config_path().with_name(TOKENS_NAME)


def instance_key(url: str) -> str:
    """One key per instance whether or not its URL was given with a trailing slash."""
    return url.rstrip("/") + "/"


@dataclass(frozen=True)
class SavedLogin:
    username: str
    token: str


def load_logins(path: Path | None = None) -> dict[str, SavedLogin]:
    """Every saved login by instance URL; entries that are not a username and a token are skipped."""
    path = path or tokens_path()
    data = read_saved_json(path)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CliError(f"{path} must hold a JSON object; delete it and log in again")
    logins = {}
    for url, entry in data.items():
        if isinstance(entry, dict) and isinstance(entry.get("username"), str) and isinstance(entry.get("token"), str):
            logins[url] = SavedLogin(entry["username"], entry["token"])
    return logins


def saved_login(url: str, path: Path | None = None) -> SavedLogin | None:
    return load_logins(path).get(instance_key(url))


def save_login(url: str, login: SavedLogin | None, path: Path | None = None) -> Path:
    """Saves (or, with None, forgets) the login of one instance; written atomically with mode 0600."""
    path = path or tokens_path()
    logins = load_logins(path)
    if login is None:
        logins.pop(instance_key(url), None)
    else:
        logins[instance_key(url)] = login
    data = {key: {"username": saved.username, "token": saved.token} for key, saved in sorted(logins.items())}
    return write_private_json(path, data)
