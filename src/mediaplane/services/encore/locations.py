"""Where a job reads and writes: the instance's storage area (`/usercontent/...`), http(s) URLs and `s3://`.

A job's paths are never paths on the server: every plain path maps into the instance's own area of the
platform storage, and keys are checked so that none can climb out of it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from mediaplane.kit.errors import BadRequest
from mediaplane.kit.storage import Storage
from mediaplane.kit.storage.errors import UnsafePath
from mediaplane.kit.storage.keys import safe_key
from mediaplane.services.encore.options import S3Access

PRESIGN_SECONDS = 12 * 3600


class LocationError(BadRequest):
    """A path or URL a job cannot use (400 in the API, FAILED in a worker)."""


def instance_area(storage: Storage, instance_id: str) -> Storage:
    return storage.scoped(f"instances/{instance_id}")


def area_key(path: str) -> str:
    """`/usercontent/demo/a.mp4` or `file:///usercontent/...` → `usercontent/demo/a.mp4`, checked."""
    if path.startswith("file:"):
        path = urlsplit(path).path
    try:
        return safe_key(path.strip("/"))
    except UnsafePath as exc:
        raise LocationError(f"Invalid path {path!r}: {exc}") from None


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str


def s3_location(uri: str) -> S3Location | None:
    parts = urlsplit(uri)
    if parts.scheme != "s3":
        return None
    if not parts.netloc:
        raise LocationError(f"Invalid S3 URL {uri!r}: no bucket")
    return S3Location(parts.netloc, parts.path.lstrip("/"))


def _s3_client(access: S3Access) -> object:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=access.endpoint,
        region_name=access.region or "us-east-1",
        aws_access_key_id=access.access_key_id,
        aws_secret_access_key=access.secret_access_key,
        aws_session_token=access.session_token,
        config=Config(s3={"addressing_style": "path"} if access.endpoint else {}, retries={"max_attempts": 3}),
    )


class S3Transfer:
    """The instance's own S3 account (its `s3*` options), for `s3://` inputs and outputs."""

    def __init__(self, access: S3Access) -> None:
        if not access.access_key_id and not access.endpoint:
            raise LocationError("s3:// needs the instance's S3 options (s3AccessKeyId, s3SecretAccessKey, ...)")
        self._client = _s3_client(access)

    async def presign(self, location: S3Location, seconds: int = PRESIGN_SECONDS) -> str:
        def run() -> str:
            head = self._client.head_object  # type: ignore[attr-defined]
            try:
                head(Bucket=location.bucket, Key=location.key)
            except Exception as exc:
                raise LocationError(f"Input s3://{location.bucket}/{location.key} cannot be read: {exc}") from None
            url: str = self._client.generate_presigned_url(  # type: ignore[attr-defined]
                "get_object", Params={"Bucket": location.bucket, "Key": location.key}, ExpiresIn=seconds
            )
            return url

        return await asyncio.to_thread(run)

    async def upload(self, path: Path, location: S3Location) -> None:
        def run() -> None:
            self._client.upload_file(str(path), location.bucket, location.key)  # type: ignore[attr-defined]

        await asyncio.to_thread(run)


@dataclass(frozen=True)
class ResolvedUri:
    url: str  # what FFmpeg and the analyser open
    access_uri: str | None  # shown on the job's input (Eyevinn's `accessUri`) when it differs from `uri`


async def resolve_input(uri: str, area: Storage, s3: S3Access) -> ResolvedUri:
    scheme = urlsplit(uri).scheme.lower()
    if scheme in ("http", "https"):
        return ResolvedUri(uri, None)
    if scheme == "s3":
        location = s3_location(uri)
        assert location is not None
        url = await S3Transfer(s3).presign(location)
        return ResolvedUri(url, url)
    if scheme not in ("", "file"):
        raise LocationError(f"Unsupported input {uri!r}: use http(s)://, s3:// or a path in the instance's storage")
    key = area_key(uri)
    if not await area.exists(key):
        raise LocationError(f"Input {uri} does not exist in the instance's storage")
    local = await area.local_path(key)
    if local is not None:
        return ResolvedUri(str(local), None)
    signed = await area.url_for(key, expires_in=PRESIGN_SECONDS)
    if signed is None:
        raise LocationError(f"Input {uri} cannot be read by FFmpeg from this storage")
    return ResolvedUri(signed, None)
