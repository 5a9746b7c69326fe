"""The options of a gosd instance: the first user and the OAuth client (generated when not given), and the
size limit of one blob."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from mediaplane.core.catalog import InstanceOption

DEFAULT_MAX_BLOB_MB = 100
USERNAME = r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}"


def new_username() -> str:
    return f"admin-{secrets.token_hex(3)}"


def new_secret() -> str:
    """32 URL-safe characters (192 random bits)."""
    return secrets.token_urlsafe(24)


def new_client_id() -> str:
    return secrets.token_hex(8)


OPTIONS = [
    InstanceOption(
        name="username",
        label="Username",
        description="The first user, for POST /gosd/oauth/token (generated when not given)",
        regex_validator=USERNAME,
        generate=new_username,
    ),
    InstanceOption(
        name="password",
        label="Password",
        description="The first user's password (generated when not given; shown once, when the instance is made)",
        regex_validator=r".{8,256}",
        secret=True,
        generate=new_secret,
    ),
    InstanceOption(
        name="clientId",
        label="OAuth client id",
        description="The client_id that POST /gosd/oauth/token asks for (generated when not given)",
        regex_validator=r"[\x21-\x7e]{1,128}",
        generate=new_client_id,
    ),
    InstanceOption(
        name="clientSecret",
        label="OAuth client secret",
        description="The client_secret that POST /gosd/oauth/token asks for (generated when not given; shown once)",
        regex_validator=r"[\x21-\x7e]{8,256}",
        secret=True,
        generate=new_secret,
    ),
    InstanceOption(
        name="maxBlobMegabytes",
        label="Largest blob (MiB)",
        description="Uploads of a larger file are refused with 413",
        regex_validator=r"[1-9][0-9]{0,5}",
        default=str(DEFAULT_MAX_BLOB_MB),
    ),
    InstanceOption(
        name="webhookUrl",
        label="Webhook URL",
        description="Receives job.queued, job.running, job.succeeded, job.failed, job.cancelled, node.online and "
        "node.offline",
        regex_validator=r"(https?://\S+)?",
    ),
    InstanceOption(
        name="webhookSecret",
        label="Webhook secret",
        description="Signs every webhook (X-Mediaplane-Signature, HMAC-SHA256; generated when not given)",
        regex_validator=r"[\x21-\x7e]{8,256}",
        secret=True,
        generate=new_secret,
    ),
]


@dataclass(frozen=True)
class GosdOptions:
    username: str
    password: str
    client_id: str
    client_secret: str
    max_blob_bytes: int
    webhook_url: str | None = None
    webhook_secret: str | None = None

    @classmethod
    def of(cls, options: dict[str, Any]) -> GosdOptions:
        megabytes = str(options.get("maxBlobMegabytes") or DEFAULT_MAX_BLOB_MB)
        return cls(
            username=str(options.get("username") or ""),
            password=str(options.get("password") or ""),
            client_id=str(options.get("clientId") or ""),
            client_secret=str(options.get("clientSecret") or ""),
            max_blob_bytes=int(megabytes) * 1024 * 1024 if megabytes.isdigit() else DEFAULT_MAX_BLOB_MB * 1024**2,
            webhook_url=str(options.get("webhookUrl") or "") or None,
            webhook_secret=str(options.get("webhookSecret") or "") or None,
        )
