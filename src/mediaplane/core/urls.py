"""Where things are: the platform base URL, each service's instance API and each instance's own URL."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from mediaplane.config import Settings


def base_url(settings: Settings, conn: HTTPConnection | None = None) -> str:
    """The configured public URL, else the URL the caller used to reach us."""
    if settings.public_url:
        return settings.public_url
    if conn is not None:
        root = conn.scope.get("mediaplane.platform_root", "")
        return f"{conn.url.scheme}://{conn.url.netloc}{root}".rstrip("/")
    return settings.base_url


def api_url(base: str, service_id: str) -> str:
    return f"{base}/{service_id}instance"


def instance_url(settings: Settings, base: str, service_id: str, tenant_id: str, name: str) -> str:
    key = f"{tenant_id}-{name}"
    if settings.base_domain:
        parts = urlsplit(base)
        port = f":{parts.port}" if parts.port else ""
        return f"{parts.scheme}://{key}.{service_id}.{settings.base_domain}{port}/"
    return f"{base}/{service_id}/{key}/"
