"""Layers: a picture over the participants (`z-index` 1, the foreground, its alpha kept) or under them (-1, the
background) — an uploaded file, a picture at a URL, or a text insert the composer draws. One per index; a new one
replaces it.

The picture is stored at the canvas size in the instance's storage (`eyeson/<instance>/layers/<meeting>/…`) and
noted in the meeting's `layers`, so that a room started again (another process, a restart) shows it too; the room
that runs the meeting loads it from there (the command carries the key, not the picture)."""

from __future__ import annotations

import asyncio
import io
from typing import Any

from PIL import Image
from starlette.datastructures import UploadFile

from mediaplane.kit.mcu import McuConfig, render_insert
from mediaplane.kit.mcu.overlay import to_canvas
from mediaplane.kit.railsparams import ParamsError, as_str
from mediaplane.services.eyeson.errors import bad_request
from mediaplane.services.eyeson.images import MAX_IMAGE_BYTES, decode_image, fetch_image
from mediaplane.services.eyeson.media import media_command, media_rooms
from mediaplane.services.eyeson.models import EyesonMeeting
from mediaplane.services.eyeson.rooms import RoomService, text_param
from mediaplane.services.eyeson.views import iso

INDEXES = {"1": 1, "-1": -1}
MAX_ICON_BYTES = 2 * 1024 * 1024
MAX_TITLE = 200
MAX_CONTENT = 2000


def layer_index(value: Any, field: str = "z-index") -> int:
    text = "1" if value in (None, "") else str(value).strip()
    if text.startswith("+"):
        text = text[1:]
    if text not in INDEXES:
        raise bad_request(f"{field} must be 1 (foreground) or -1 (background)")
    return INDEXES[text]


def storage_key(meeting: EyesonMeeting, index: int) -> str:
    return f"eyeson/{meeting.instance_id}/layers/{meeting.id}/{'foreground' if index > 0 else 'background'}.png"


def _png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=3)
    return out.getvalue()


async def _upload_bytes(upload: UploadFile) -> bytes:
    try:
        data = await upload.read(MAX_IMAGE_BYTES + 1)
    finally:
        await upload.close()
    if len(data) > MAX_IMAGE_BYTES:
        raise bad_request(f"file is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    return data


class LayerService:
    def __init__(self, rooms: RoomService) -> None:
        self.rooms = rooms
        self.runtime = rooms.runtime

    async def put(self, meeting: EyesonMeeting, params: dict[str, Any]) -> dict[str, Any]:
        """POST /rooms/:access_key/layers: the layer drawn and stored, the meeting's room told."""
        index = layer_index(params.get("z-index", params.get("z_index")))
        layer_id = text_param(params.get("id"), "id", 128)
        canvas = media_rooms(self.runtime).config(meeting)
        image, source = await self._picture(params, canvas)
        key = storage_key(meeting, index)
        await self.runtime.storage.put_bytes(key, await asyncio.to_thread(_png, image))
        entry = {"id": layer_id, "source": source, "key": key, "created_at": iso(self.rooms.now())}
        meeting.layers = {**(meeting.layers or {}), str(index): entry}
        await self.rooms.session.flush()
        await media_command(self.runtime, meeting.id, "layer", index=index, key=key, layer_id=layer_id)
        return entry

    async def clear(self, meeting: EyesonMeeting, raw_index: str) -> None:
        """DELETE /rooms/:access_key/layers/:index."""
        index = layer_index(raw_index, "index")
        layers = dict(meeting.layers or {})
        entry = layers.pop(str(index), None)
        meeting.layers = layers
        await self.rooms.session.flush()
        await media_command(self.runtime, meeting.id, "layer", index=index, key=None, layer_id=None)
        if entry is not None:
            await self.runtime.storage.delete(str(entry.get("key") or storage_key(meeting, index)))

    async def _picture(self, params: dict[str, Any], canvas: McuConfig) -> tuple[Image.Image, str]:
        """The layer's picture at the canvas size, and where it came from (file, url or insert)."""
        upload, url, insert = params.get("file"), params.get("url"), params.get("insert")
        given = [name for name, v in (("file", upload), ("url", url), ("insert", insert)) if v not in (None, "")]
        if len(given) != 1:
            raise bad_request("give one of file, url or insert[title|content|icon]")
        width, height = canvas.width, canvas.height
        if given == ["file"]:
            if not isinstance(upload, UploadFile):
                raise bad_request("file must be an uploaded image (multipart/form-data)")
            data = await _upload_bytes(upload)
        elif given == ["url"]:
            data = await fetch_image(_string(url, "url"), "url")
        else:
            return await self._insert(insert, width, height), "insert"
        image = await asyncio.to_thread(decode_image, data, width, height)
        return await asyncio.to_thread(to_canvas, image, width, height), given[0]

    async def _insert(self, insert: Any, width: int, height: int) -> Image.Image:
        if not isinstance(insert, dict):
            raise bad_request("insert takes insert[title], insert[content] and insert[icon]")
        title = _text(insert.get("title"), "insert[title]", MAX_TITLE)
        content = _text(insert.get("content"), "insert[content]", MAX_CONTENT)
        if not title and not content:
            raise bad_request("a text insert needs insert[title] or insert[content]")
        icon = None
        if insert.get("icon") not in (None, ""):
            data = await fetch_image(_string(insert["icon"], "insert[icon]"), "insert[icon]", limit=MAX_ICON_BYTES)
            icon = await asyncio.to_thread(decode_image, data, 256, 256)
        drawn = await asyncio.to_thread(render_insert, width, height, title, content, icon)
        return drawn.image


def _string(value: Any, field: str) -> str:
    try:
        text = as_str(value, name=field)
    except ParamsError as exc:
        raise bad_request(str(exc)) from None
    if not text or len(text) > 2048:
        raise bad_request(f"{field} must be a URL of at most 2048 characters")
    return text


def _text(value: Any, field: str, limit: int) -> str | None:
    """Message text: newlines and tabs become spaces; other control characters are refused."""
    if isinstance(value, str):
        value = " ".join(value.split())
    return text_param(value, field, limit)
