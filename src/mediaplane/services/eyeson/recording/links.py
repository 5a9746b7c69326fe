"""Where recordings and snapshots are stored, and their expiring download links: the storage's own presigned
URL (S3), else a route of ours signed with a key derived from the server's secret (local storage)."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.core.urls import base_url, instance_url
from mediaplane.kit.security import derive_key
from mediaplane.kit.storage import safe_key
from mediaplane.services.eyeson.errors import EyesonError

DOWNLOAD_SECONDS = 3600  # as eyeson's: a link lasts an hour; GET the object again for a fresh one
KINDS = {"recordings": "webm", "snapshots": "jpg"}


def storage_key(instance_id: str, kind: str, object_id: str) -> str:
    return safe_key("eyeson", instance_id, kind, f"{object_id}.{KINDS[kind]}")


def work_path(runtime: Runtime, object_id: str) -> Path:
    """Where a recording is written before it goes to storage."""
    settings = runtime.settings
    return Path(settings.work_dir or settings.data_dir / "work") / "eyeson" / f"{object_id}.webm"


def instance_base(runtime: Runtime, instance: Instance) -> str:
    """The instance's API base URL (ends with /) for links made outside a request (events, webhooks)."""
    settings = runtime.settings
    return instance_url(settings, base_url(settings), "eyeson", instance.tenant_id, instance.name)


def _signature(runtime: Runtime, instance_id: str, kind: str, object_id: str, expires: int) -> str:
    key = derive_key(runtime.settings.secret, "eyeson.download")
    message = f"{instance_id}/{kind}/{object_id}/{expires}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


async def download_url(runtime: Runtime, instance_id: str, base: str, kind: str, object_id: str, key: str) -> str:
    presigned = await runtime.storage.url_for(key, expires_in=DOWNLOAD_SECONDS)
    if presigned:
        return presigned
    expires = runtime.clock.timestamp() + DOWNLOAD_SECONDS
    signature = _signature(runtime, instance_id, kind, object_id, expires)
    return f"{base}{kind}/{object_id}/download?expires={expires}&signature={signature}"


def check_download(
    runtime: Runtime, instance_id: str, kind: str, object_id: str, expires: str | None, signature: str | None
) -> None:
    """403 unless the link was signed by us for this object and has not expired."""
    if not expires or not signature or not (expires.isascii() and expires.isdigit()) or len(expires) > 12:
        raise EyesonError(403, "invalid download link")
    expected = _signature(runtime, instance_id, kind, object_id, int(expires))
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise EyesonError(403, "invalid download link")
    if int(expires) < runtime.clock.timestamp():
        raise EyesonError(403, "the download link has expired")
