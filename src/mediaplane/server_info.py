"""What an operator is shown of a server: its settings with secrets masked, and its HTTP routes.

`mediaplane config show`, `mediaplane routes` and the console's System page all read them from here, so the
three show the same. Light to import (the CLI loads it on every start): the standard library only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from fastapi import FastAPI

    from mediaplane.config import Settings

SECRET_FIELDS = frozenset({"secret_key", "s3_access_key_id", "s3_secret_access_key"})
URL_FIELDS = frozenset({"database_url", "redis_url", "mqtt_url"})  # may hold a password
INSTANCE_ROUTES = (
    "Instance APIs are served at /{serviceId}/{tenant}-{name}/... "
    "(or {tenant}-{name}.{serviceId}.<base domain>) by each service."
)
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


def mask(secret: str | None) -> str | None:
    """Enough of a secret to tell two apart, not enough to use it."""
    if not secret:
        return secret
    return f"****{secret[-4:]}" if len(secret) >= 16 else "****"


def mask_url(url: str | None) -> str | None:
    """Hides the password in a database, Redis or MQTT URL."""
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
    """Every setting in effect, by field name, with secrets and URL passwords masked."""
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


def platform_routes(platform: FastAPI) -> list[dict[str, Any]]:
    """The platform app's routes: its OpenAPI document's operations, then the routes kept out of it (the docs
    pages, mounts). Each is {path, methods, summary, tags}."""
    rows: list[dict[str, Any]] = []
    for path, operations in platform.openapi().get("paths", {}).items():
        for method, operation in operations.items():
            if method.upper() not in HTTP_METHODS:
                continue
            rows.append(
                {
                    "path": path,
                    "methods": [method.upper()],
                    "summary": operation.get("summary", ""),
                    "tags": operation.get("tags", []),
                }
            )
    documented = {row["path"] for row in rows}
    for route in platform.routes:
        path = getattr(route, "path", None)
        if path and path not in documented:
            methods = sorted(set(getattr(route, "methods", None) or []) - {"HEAD"})
            rows.append({"path": path, "methods": methods, "summary": "", "tags": []})
    return rows
