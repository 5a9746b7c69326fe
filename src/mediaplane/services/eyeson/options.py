"""The options of an eyeson instance: the team's name and API key (generated when not given), and how large a
chat message may be."""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

from mediaplane.core.catalog import InstanceOption

ALPHANUMERIC = string.ascii_letters + string.digits
API_KEY = r"[A-Za-z0-9]{24,64}"


def new_key(length: int = 42) -> str:
    """eyeson's keys are alphanumeric; 42 characters carry about 250 random bits."""
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(length))


OPTIONS = [
    InstanceOption(
        name="apiKey",
        label="API key",
        description="The team's key, sent raw in the Authorization header (generated when not given; update the "
        "instance with a new one to rotate it)",
        regex_validator=API_KEY,
        # Not masked: the instance object is where its owner (and the CLI) reads the key, as eyeson's
        # dashboard shows it; only the tenant's own service tokens can read the instance.
        generate=new_key,
    ),
    InstanceOption(
        name="teamName",
        label="Team name",
        description="Shown as team.name in every room",
        regex_validator=r"[^\x00-\x1f]{1,128}",
    ),
]


@dataclass(frozen=True)
class EyesonOptions:
    api_key: str
    team_name: str

    @classmethod
    def of(cls, options: dict[str, Any], instance_name: str = "") -> EyesonOptions:
        return cls(
            api_key=str(options.get("apiKey") or ""),
            team_name=str(options.get("teamName") or instance_name or "eyeson"),
        )
