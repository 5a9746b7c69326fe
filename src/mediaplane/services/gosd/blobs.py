"""Blobs: files kept in the platform storage (the instance's folder), with their name, size and SHA-256.

Each version of a blob's bytes has a key of its own (`gosd/blobs/<id>/<uuid>`), so a replacement is stored
in full before the row points at it; the old bytes are removed once it does. Deleting a blob removes its row
and its bytes; a blob that a plan's `files` names is refused (409) until the plan lets go of it.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import AsyncIterator

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import UploadFile

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.storage import Storage, TooLarge
from mediaplane.services.gosd.errors import GosdError, bad_request, not_found
from mediaplane.services.gosd.models import GosdBlob
from mediaplane.services.gosd.options import GosdOptions
from mediaplane.services.gosd.repository import BlobRepository, PlanFileRepository

CHUNK = 256 * 1024
MAX_FILENAME = 255


def instance_storage(runtime: Runtime, instance: Instance) -> Storage:
    """The instance's folder of the platform storage (purged with the instance)."""
    return runtime.storage.scoped(f"instances/{instance.id}")


def blob_folder(blob_id: int) -> str:
    return f"gosd/blobs/{blob_id}"


def digest_header(checksum: str) -> str:
    """RFC 3230's `Digest: sha-256=<base64>` of a hex SHA-256."""
    return "sha-256=" + base64.b64encode(bytes.fromhex(checksum)).decode()


def clean_filename(upload: UploadFile, field: str) -> str:
    name = (upload.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f")
    return name[:MAX_FILENAME] or field[:MAX_FILENAME] or "blob"


class Hashing:
    """The chunks of an upload, hashed and counted as they go to the storage."""

    def __init__(self, upload: UploadFile) -> None:
        self.upload = upload
        self.sha256 = hashlib.sha256()
        self.size = 0

    async def chunks(self) -> AsyncIterator[bytes]:
        await self.upload.seek(0)
        while chunk := await self.upload.read(CHUNK):
            self.sha256.update(chunk)
            self.size += len(chunk)
            yield chunk


class BlobService:
    def __init__(self, session: AsyncSession, runtime: Runtime, instance: Instance) -> None:
        self.session = session
        self.runtime = runtime
        self.instance = instance
        self.blobs = BlobRepository(session)
        self.storage = instance_storage(runtime, instance)
        self.limit = min(GosdOptions.of(instance.options).max_blob_bytes, runtime.settings.max_upload_bytes)

    def _too_large(self, filename: str) -> GosdError:
        return GosdError(413, f"{filename} is larger than the limit of {self.limit} bytes")

    async def _store(self, blob_id: int, upload: UploadFile, filename: str) -> tuple[str, str, int]:
        """(key, sha256 hex, size) of the upload stored under a new key of the blob."""
        if upload.size is not None and upload.size > self.limit:
            raise self._too_large(filename)
        key = f"{blob_folder(blob_id)}/{uuid.uuid4().hex}"
        hashing = Hashing(upload)
        try:
            await self.storage.put_stream(key, hashing.chunks(), max_bytes=self.limit)
        except TooLarge:
            raise self._too_large(filename) from None
        return key, hashing.sha256.hexdigest(), hashing.size

    async def get(self, blob_id: int) -> GosdBlob:
        blob = await self.blobs.get_in(self.instance.id, blob_id)
        if blob is None:
            raise not_found(f"No blob {blob_id}")
        return blob

    async def create_many(self, files: list[tuple[str, UploadFile]]) -> dict[str, GosdBlob]:
        """Every file part becomes a blob, keyed by its form field."""
        if not files:
            raise bad_request("No file in the form: send each file as a part (curl -F name=@file)")
        fields = [field for field, _ in files]
        twice = sorted({f for f in fields if fields.count(f) > 1})
        if twice:
            raise bad_request(f"Fields given more than once: {', '.join(twice)} (use one field name per file)")
        created: dict[str, GosdBlob] = {}
        stored: list[str] = []
        try:
            for field, upload in files:
                created[field] = await self.create(field, upload, stored)
        except BaseException:
            for key in stored:  # nothing of a refused upload stays behind
                await self.storage.delete(key)
            raise
        return created

    async def create(self, field: str, upload: UploadFile, stored: list[str] | None = None) -> GosdBlob:
        filename = clean_filename(upload, field)
        now = self.runtime.clock.now()
        blob = GosdBlob(
            instance_id=self.instance.id,
            filename=filename,
            size=0,
            checksum="",
            storage_key="",
            created_at=now,
            updated_at=now,
        )
        await self.blobs.create(blob)  # the id names the folder
        blob.storage_key, blob.checksum, blob.size = await self._store(blob.id, upload, filename)
        if stored is not None:
            stored.append(blob.storage_key)
        await self.session.flush()
        return blob

    async def create_bytes(self, filename: str, data: bytes) -> GosdBlob:
        """A blob made by the platform itself (a job's log or result file)."""
        if len(data) > self.limit:
            raise self._too_large(filename)
        now = self.runtime.clock.now()
        blob = GosdBlob(
            instance_id=self.instance.id,
            filename=filename[:MAX_FILENAME] or "blob",
            size=len(data),
            checksum=hashlib.sha256(data).hexdigest(),
            storage_key="",
            created_at=now,
            updated_at=now,
        )
        await self.blobs.create(blob)
        blob.storage_key = f"{blob_folder(blob.id)}/{uuid.uuid4().hex}"
        await self.storage.put_bytes(blob.storage_key, data)
        await self.session.flush()
        return blob

    async def read_bytes(self, blob: GosdBlob, limit: int) -> bytes:
        """The whole content of a blob of at most `limit` bytes (a script, a small input)."""
        if blob.size > limit:
            raise self._too_large(blob.filename)
        parts = [chunk async for chunk in self.storage.open(blob.storage_key)]
        return b"".join(parts)

    async def replace(self, blob_id: int, files: list[tuple[str, UploadFile]]) -> GosdBlob:
        """The content and name of the blob from the (first) file part; the old bytes are then removed."""
        blob = await self.get(blob_id)
        if not files:
            raise bad_request("No file in the form: send the new content as a file part (curl -F c=@file)")
        field, upload = files[0]
        filename = clean_filename(upload, field)
        key, checksum, size = await self._store(blob.id, upload, filename)
        old_key = blob.storage_key
        blob.storage_key, blob.checksum, blob.size, blob.filename = key, checksum, size, filename
        blob.updated_at = self.runtime.clock.now()
        try:
            await self.session.flush()
        except BaseException:
            await self.storage.delete(key)
            raise
        if old_key and old_key != key:
            await self.storage.delete(old_key)
        return blob

    async def delete(self, blob_id: int) -> GosdBlob:
        blob = await self.get(blob_id)
        users = await PlanFileRepository(self.session).using_blob(self.instance.id, blob.id)
        if users:
            named = ", ".join(sorted({f"plan {u.plan_id} (files.{u.name})" for u in users}))
            raise GosdError(409, f"Blob {blob.id} is used by {named}: change the plan first")
        await self.blobs.delete(blob)
        await self.storage.delete_prefix(blob_folder(blob.id))
        return blob
