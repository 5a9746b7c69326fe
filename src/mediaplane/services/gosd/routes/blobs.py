"""`/api/v2/blobs`: upload (every file part), download (name and checksum), replace, delete."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Request, Response

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.kit.storage import ObjectNotFound, range_response
from mediaplane.services.gosd import schemas
from mediaplane.services.gosd.blobs import BlobService, digest_header
from mediaplane.services.gosd.deps import GosdInstance, current_user
from mediaplane.services.gosd.errors import GosdError, not_found
from mediaplane.services.gosd.inputs import media_type, request_body
from mediaplane.services.gosd.routes import PREFIX

router = APIRouter(prefix=f"{PREFIX}/api/v2/blobs", tags=["blobs"], dependencies=[Depends(current_user)])
BlobId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def blob_service(instance: GosdInstance, session: SessionDep, runtime: RuntimeDep) -> BlobService:
    return BlobService(session, runtime, instance)


Blobs = Annotated[BlobService, Depends(blob_service)]


def require_multipart(request: Request) -> None:
    if media_type(request) != "multipart/form-data":
        raise GosdError(415, "Send the files as multipart/form-data (curl -F field=@file)")


def content_disposition(filename: str) -> str:
    fallback = "".join(ch if 0x20 <= ord(ch) < 0x7F and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


@router.post("", summary="Store every file part as a blob: {field: id}", dependencies=[Depends(require_multipart)])
async def create_blobs(request: Request, blobs: Blobs) -> dict[str, str]:
    async with request_body(request) as body:
        created = await blobs.create_many(body.files)
    return {field: str(blob.id) for field, blob in created.items()}


@router.get("/{blob_id}", summary="Download a blob (its filename, SHA-256 in Digest and ETag; Range supported)")
async def download_blob(blob_id: BlobId, request: Request, blobs: Blobs) -> Response:
    blob = await blobs.get(blob_id)
    etag = f'"{blob.checksum}"'
    headers = {
        "Content-Disposition": content_disposition(blob.filename),
        "Digest": digest_header(blob.checksum),
        "X-Checksum-Sha256": blob.checksum,
    }
    if etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers={"ETag": etag})
    try:
        response = await range_response(
            blobs.storage, blob.storage_key, request.headers.get("range"), "application/octet-stream", headers=headers
        )
    except ObjectNotFound:
        raise not_found(f"The content of blob {blob_id} is missing from the storage") from None
    response.headers["ETag"] = etag
    return response


REPLACE = "Replace a blob's content and filename with the file part (the first, when there are several)"


@router.put("/{blob_id}", summary=REPLACE, dependencies=[Depends(require_multipart)])
@router.patch("/{blob_id}", summary=REPLACE + " (as PUT)", dependencies=[Depends(require_multipart)])
async def replace_blob(blob_id: BlobId, request: Request, blobs: Blobs) -> dict[str, object]:
    async with request_body(request) as body:
        return schemas.blob(await blobs.replace(blob_id, body.files))


@router.delete("/{blob_id}", summary="Delete a blob and its stored bytes (refused while a plan uses it)")
async def delete_blob(blob_id: BlobId, blobs: Blobs) -> dict[str, object]:
    return schemas.blob(await blobs.delete(blob_id))
