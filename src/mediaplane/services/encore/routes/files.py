"""`/usercontent/...`: the instance's storage area, where `outputFolder: /usercontent/x` writes and inputs can
be uploaded. Downloads support Range (players seek in the renditions)."""

from __future__ import annotations

import mimetypes
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mediaplane.core.deps import RuntimeDep
from mediaplane.core.instance.access import CurrentInstance, current_instance
from mediaplane.kit.errors import NotFound
from mediaplane.kit.storage.http import range_response
from mediaplane.services.encore.locations import area_key, instance_area

router = APIRouter(dependencies=[Depends(current_instance)], tags=["usercontent"])
mimetypes.add_type("application/vnd.apple.mpegurl", ".m3u8")
mimetypes.add_type("application/dash+xml", ".mpd")
mimetypes.add_type("video/iso.segment", ".m4s")


def _key(path: str) -> str:
    return area_key(f"usercontent/{path}")


@router.get("/usercontent/{path:path}", summary="Download a file (Range supported) or list a folder")
async def download(path: str, request: Request, instance: CurrentInstance, runtime: RuntimeDep) -> Any:
    area = instance_area(runtime.storage, instance.id)
    if path == "" or path.endswith("/"):
        prefix = _key(path) + "/" if path.strip("/") else "usercontent/"
        files = await area.list(prefix)
        return {"files": [{"name": "/" + f.key, "size": f.size, "modified": f.modified.isoformat()} for f in files]}
    key = _key(path)
    media_type = mimetypes.guess_type(key)[0]
    return await range_response(area, key, request.headers.get("range"), media_type)


@router.put("/usercontent/{path:path}", status_code=201, summary="Upload a file (e.g. an input)")
async def upload(path: str, request: Request, instance: CurrentInstance, runtime: RuntimeDep) -> Any:
    area = instance_area(runtime.storage, instance.id)
    key = _key(path)
    info = await area.put_stream(key, request.stream(), max_bytes=runtime.settings.max_upload_bytes)
    return {"uri": "/" + key, "size": info.size}


@router.delete("/usercontent/{path:path}", status_code=204, summary="Delete a file")
async def delete(path: str, instance: CurrentInstance, runtime: RuntimeDep) -> Response:
    area = instance_area(runtime.storage, instance.id)
    key = _key(path)
    if not await area.exists(key):
        raise NotFound(f"No file /{key}")
    await area.delete(key)
    return Response(status_code=204)
