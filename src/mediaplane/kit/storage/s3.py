"""Objects in an S3-compatible bucket (AWS S3, MinIO, Ceph, moto).

boto3 is blocking, so every call runs in a thread (``asyncio.to_thread``); a boto3 client is
thread-safe. Addressing is path-style (``endpoint/bucket/key``), which every S3-compatible server
accepts. The bucket is created on first use when it is missing.

A ``put_stream`` is one ``PutObject`` when it fits in one part and a multipart upload otherwise;
a failed or oversized upload is aborted, so readers never see a partial object.
"""

from __future__ import annotations

import asyncio
import builtins
import functools
import logging
import mimetypes
from collections.abc import AsyncIterator, Callable
from datetime import UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from mediaplane.kit.storage.base import ObjectInfo, Storage, check_range
from mediaplane.kit.storage.errors import ObjectNotFound, StorageError, StorageUnavailable, TooLarge
from mediaplane.kit.storage.keys import safe_key, safe_prefix

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef, CreateBucketConfigurationTypeDef

__all__ = ["S3Storage"]

T = TypeVar("T")
log = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024
_NOT_FOUND = {"404", "NoSuchKey", "NotFound", "NoSuchBucket"}


@functools.cache
def _session() -> boto3.session.Session:
    """One session for every client: it caches the loaded S3 API description, so a new client costs ~10 ms, not ~150 ms.

    A boto3 session is not thread-safe, so clients are made on the caller's thread (in ``__init__``).
    """
    return boto3.session.Session()


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _content_type(key: str) -> str:
    return mimetypes.guess_type(key)[0] or "application/octet-stream"


class S3Storage(Storage):
    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        create_bucket: bool = True,
        part_size: int = 8 * 1024 * 1024,
        chunk_size: int | None = None,
        page_size: int = 1000,
    ) -> None:
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum)")
        self.bucket = bucket
        self.endpoint_url = endpoint_url
        self.region = region
        self.part_size = part_size
        self.page_size = min(page_size, 1000)
        if chunk_size is not None:
            self.chunk_size = chunk_size
        self._create_bucket = create_bucket
        self._ready = False
        self._client: S3Client = _session().client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(
                s3={"addressing_style": "path"},
                signature_version="s3v4",
                retries={"mode": "standard", "max_attempts": 3},
            ),
        )

    def __repr__(self) -> str:
        return f"S3Storage({self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    # -- plumbing --------------------------------------------------------------------------

    async def _run(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run one blocking boto3 call in a thread, with the bucket in place and errors mapped."""
        if not self._ready:
            await self._to_thread(self._ensure_bucket)
            self._ready = True
        return await self._to_thread(func, *args, **kwargs)

    @staticmethod
    async def _to_thread(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        try:
            return await asyncio.to_thread(func, *args, **kwargs)
        except BotoCoreError as exc:
            raise StorageUnavailable(f"object storage unreachable: {exc}") from exc
        except ClientError as exc:
            raise StorageError(f"object storage refused the request: {exc}") from exc

    def _ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in _NOT_FOUND or not self._create_bucket:
                raise StorageError(f"bucket {self.bucket!r} is not usable: {exc}") from exc
        try:
            if self.region == "us-east-1":
                self._client.create_bucket(Bucket=self.bucket)
            else:
                self._client.create_bucket(
                    Bucket=self.bucket,
                    # MinIO and other servers accept any region name, not only AWS's.
                    CreateBucketConfiguration=cast(
                        "CreateBucketConfigurationTypeDef", {"LocationConstraint": self.region}
                    ),
                )
        except ClientError as exc:
            if _code(exc) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                raise StorageError(f"cannot create bucket {self.bucket!r}: {exc}") from exc

    def _head(self, key: str) -> ObjectInfo | None:
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                return None
            raise StorageError(f"cannot read {key!r}: {exc}") from exc
        return ObjectInfo(
            key=key,
            size=head["ContentLength"],
            modified=head["LastModified"].astimezone(UTC),
            etag=head.get("ETag", "").strip('"') or None,
            content_type=head.get("ContentType"),
        )

    def _stored(self, key: str) -> ObjectInfo:
        info = self._head(key)
        if info is None:  # pragma: no cover - only if deleted in the instant after writing
            raise ObjectNotFound(key)
        return info

    # -- writes ----------------------------------------------------------------------------

    def _put(self, key: str, data: bytes) -> ObjectInfo:
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=data, ContentType=_content_type(key))
        except ClientError as exc:
            raise StorageError(f"cannot write {key!r}: {exc}") from exc
        return self._stored(key)

    async def put_bytes(self, key: str, data: bytes) -> ObjectInfo:
        key = safe_key(key)
        return await self._run(self._put, key, bytes(data))

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], max_bytes: int | None = None) -> ObjectInfo:
        key = safe_key(key)
        upload_id: str | None = None
        parts: list[CompletedPartTypeDef] = []
        buffer = bytearray()
        total = 0

        async def flush() -> None:
            nonlocal upload_id
            if upload_id is None:
                created = await self._run(
                    self._client.create_multipart_upload,
                    Bucket=self.bucket,
                    Key=key,
                    ContentType=_content_type(key),
                )
                upload_id = created["UploadId"]
            number = len(parts) + 1
            uploaded = await self._run(
                self._client.upload_part,
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                PartNumber=number,
                Body=bytes(buffer),
            )
            parts.append({"ETag": uploaded["ETag"], "PartNumber": number})
            buffer.clear()

        # A flush runs to its end even if this task is cancelled meanwhile, so that an upload it
        # started is known (upload_id) and can be aborted below.
        flushing: asyncio.Task[None] | None = None

        async def settled_flush() -> None:
            nonlocal flushing
            flushing = asyncio.create_task(flush())
            await asyncio.shield(flushing)

        try:
            async for chunk in chunks:
                total += len(chunk)
                if max_bytes is not None and total > max_bytes:
                    raise TooLarge(max_bytes)
                buffer += chunk
                if len(buffer) >= self.part_size:
                    await settled_flush()
            if upload_id is None:
                return await self._run(self._put, key, bytes(buffer))
            if buffer:
                await settled_flush()
            await self._run(
                self._client.complete_multipart_upload,
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": parts},
            )
        except BaseException:
            if flushing is not None and not flushing.done():
                await asyncio.wait([flushing])
            if upload_id is not None:
                # Shielded: the abort must reach the server even while this task is being cancelled.
                await asyncio.shield(asyncio.to_thread(self._abort, key, upload_id))
            raise
        return await self._run(self._stored, key)

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except (ClientError, BotoCoreError) as exc:  # pragma: no cover - needs a failing server
            log.warning("could not abort the multipart upload of %r (%s); its parts stay until cleanup", key, exc)

    def _upload(self, key: str, path: Path) -> ObjectInfo:
        try:
            self._client.upload_file(str(path), self.bucket, key, ExtraArgs={"ContentType": _content_type(key)})
        except ClientError as exc:
            raise StorageError(f"cannot write {key!r}: {exc}") from exc
        return self._stored(key)

    async def put_file(self, key: str, path: Path) -> ObjectInfo:
        key = safe_key(key)
        if not await asyncio.to_thread(Path(path).is_file):
            raise FileNotFoundError(path)
        return await self._run(self._upload, key, Path(path))

    # -- reads -----------------------------------------------------------------------------

    def _get(self, key: str, start: int, end: int | None) -> Any:
        kwargs: dict[str, Any] = {}
        if start or end is not None:
            kwargs["Range"] = f"bytes={start}-{'' if end is None else end}"
        try:
            return self._client.get_object(Bucket=self.bucket, Key=key, **kwargs)["Body"]
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                raise ObjectNotFound(key) from exc
            if _code(exc) == "InvalidRange":
                return None
            raise StorageError(f"cannot read {key!r}: {exc}") from exc

    async def open(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        key = safe_key(key)
        check_range(start, end)
        body = await self._run(self._get, key, start, end)
        if body is None:
            return
        try:
            while True:
                data = await self._to_thread(body.read, self.chunk_size)
                if not data:
                    return
                yield data
        finally:
            body.close()  # releases the connection; no network round trip

    async def stat(self, key: str) -> ObjectInfo | None:
        key = safe_key(key)
        return await self._run(self._head, key)

    def _list(self, prefix: str) -> builtins.list[ObjectInfo]:
        infos = []
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(
            Bucket=self.bucket,
            Prefix=f"{prefix}/" if prefix else "",
            PaginationConfig={"PageSize": self.page_size},
        ):
            for item in page.get("Contents", []):
                infos.append(
                    ObjectInfo(
                        key=item["Key"],
                        size=item["Size"],
                        modified=item["LastModified"].astimezone(UTC),
                        etag=item.get("ETag", "").strip('"') or None,
                    )
                )
        return sorted(infos, key=lambda info: info.key)

    async def list(self, prefix: str = "") -> builtins.list[ObjectInfo]:
        prefix = safe_prefix(prefix)
        return await self._run(self._list, prefix)

    def _download(self, key: str, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            # s3transfer writes to a temporary name beside ``path`` and renames it when complete.
            self._client.download_file(self.bucket, key, str(path))
        except ClientError as exc:
            if _code(exc) in _NOT_FOUND:
                raise ObjectNotFound(key) from exc
            raise StorageError(f"cannot read {key!r}: {exc}") from exc

    async def download_to(self, key: str, path: Path) -> None:
        key = safe_key(key)
        await self._run(self._download, key, Path(path))

    async def url_for(self, key: str, *, expires_in: int = 3600) -> str | None:
        key = safe_key(key)
        return await self._run(
            self._client.generate_presigned_url,
            "get_object",
            Params={"Bucket": self.bucket, "Key": key},
            ExpiresIn=expires_in,
        )

    # -- deletes ---------------------------------------------------------------------------

    async def delete(self, key: str) -> None:
        key = safe_key(key)
        await self._run(self._client.delete_object, Bucket=self.bucket, Key=key)

    def _delete_prefix(self, prefix: str) -> int:
        count = 0
        paginator = self._client.get_paginator("list_objects_v2")
        for page in paginator.paginate(
            Bucket=self.bucket,
            Prefix=f"{prefix}/" if prefix else "",
            PaginationConfig={"PageSize": self.page_size},
        ):
            keys = [item["Key"] for item in page.get("Contents", [])]
            if not keys:
                continue
            result = self._client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in keys], "Quiet": True},
            )
            errors = result.get("Errors", [])
            if errors:
                raise StorageError(f"could not delete {len(errors)} objects under {prefix!r}: {errors[0]}")
            count += len(keys)
        return count

    async def delete_prefix(self, prefix: str) -> int:
        prefix = safe_prefix(prefix)
        return await self._run(self._delete_prefix, prefix)

    async def close(self) -> None:
        await asyncio.to_thread(self._client.close)
