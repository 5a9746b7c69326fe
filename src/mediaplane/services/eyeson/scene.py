"""What a meeting's room shows besides its participants — layers and playbacks — and whom it leaves out of the
mix, applied to the room in this process (commands from any process, see media.py), and restored from the
meeting's row when a room starts (in another process, or after a restart: playbacks then start from the
beginning).

This module does not import media.py (media.py owns a :class:`Scene`); playbacks.py and layers.py build on it."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from mediaplane.core.runtime import Runtime
from mediaplane.kit.mcu import McuConflictError, McuError, McuRoom, McuSourceError, PlaybackSpec
from mediaplane.services.eyeson import events
from mediaplane.services.eyeson.errors import EyesonError, bad_request
from mediaplane.services.eyeson.images import load_stored
from mediaplane.services.eyeson.models import EyesonMeeting
from mediaplane.services.eyeson.repository import EyesonRepository

log = logging.getLogger(__name__)

SCENE_OPS = ("layer", "playback_start", "playback_stop", "mute")
PROTOCOLS = "http,https,tcp,tls"
FORMATS = "mov,mp4,m4a,3gp,3g2,mj2,matroska,webm,mp3"
"""FFmpeg's demuxers of MP4, WebM and MP3: nothing else is opened, whatever the URL serves."""
PLAYBACK_FIELDS = ("url", "play_id", "replacement_id", "name", "audio", "loop_count")


def playback_spec(entry: dict[str, Any]) -> PlaybackSpec:
    """What the room is told to play for a stored playback."""
    return PlaybackSpec(
        url=str(entry["url"]),
        name=str(entry.get("name") or ""),
        replaces=entry.get("replacement_id") or None,
        audio=bool(entry.get("audio")),
        loops=int(entry.get("loop_count") or 0),
        protocols=PROTOCOLS,
        formats=FORMATS,
    )


def playing(meeting: EyesonMeeting) -> list[dict[str, Any]]:
    """The `playing` list of a playback_update (and the room response's `playbacks`)."""
    return [{key: entry.get(key) for key in PLAYBACK_FIELDS} for entry in meeting.playbacks or []]


async def publish_playing(runtime: Runtime, meeting: EyesonMeeting) -> None:
    await events.publish(runtime, meeting.id, {"type": "playback_update", "playing": playing(meeting)})


class Scene:
    """The layers and playbacks of the rooms of this process."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._layer_ids: dict[str, dict[int, str | None]] = {}  # meeting → index → the layer's id
        self._instances: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def restore(self, room: McuRoom, meeting: EyesonMeeting) -> None:
        """A room just started: the meeting's layers again, its playbacks from the start (in the background: a
        file that no longer opens is dropped from the meeting)."""
        self._instances[meeting.id] = meeting.instance_id
        for raw, entry in (meeting.layers or {}).items():
            await self._show_layer(room, meeting.id, int(raw), entry.get("key"), entry.get("id"))
        for entry in meeting.playbacks or []:
            task = asyncio.ensure_future(self._replay(room, meeting.instance_id, meeting.id, dict(entry)))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _replay(self, room: McuRoom, instance_id: str, meeting_id: str, entry: dict[str, Any]) -> None:
        try:
            await room.play(str(entry["play_id"]), playback_spec(entry))
        except McuConflictError:
            pass
        except McuError as exc:
            log.warning("eyeson: playback %s of meeting %s not restored: %s", entry.get("play_id"), meeting_id, exc)
            await self.playback_gone(room, instance_id, meeting_id, str(entry["play_id"]))

    async def apply(self, room: McuRoom, meeting_id: str, command: dict[str, Any]) -> bool:
        """A scene command for a room here; True when the picture's spots changed (a podium_update is due).
        A playback that cannot start is an EyesonError (400, 409) for the request that asked for it."""
        op = command.get("op")
        if op == "layer":
            index = int(command.get("index") or 1)
            await self._show_layer(room, meeting_id, index, command.get("key"), command.get("layer_id"))
            return True
        if op == "playback_start":
            entry = dict(command.get("playback") or {})
            try:
                await room.play(str(entry.get("play_id")), playback_spec(entry))
            except McuConflictError:
                raise EyesonError(409, f"playback {entry.get('play_id')} is playing already") from None
            except McuSourceError as exc:
                if command.get("relayed"):  # the request was answered elsewhere: drop what it stored
                    await self.playback_gone(room, str(command.get("instance_id")), meeting_id, str(entry["play_id"]))
                raise bad_request(f"the video cannot be played: {exc.message}") from None
            return True
        if op == "playback_stop":
            return await room.stop_playback(str(command.get("play_id")))
        if op == "mute":
            room.set_muted(str(command.get("user_id")), bool(command.get("muted")))
        return False

    async def _show_layer(self, room: McuRoom, meeting_id: str, index: int, key: Any, layer_id: Any) -> None:
        ids = self._layer_ids.setdefault(meeting_id, {})
        image = await load_stored(self.runtime.storage, str(key)) if key else None
        try:
            await room.set_layer(index, image)
        except ValueError:
            log.warning("eyeson: layer %s of meeting %s not shown", index, meeting_id)
            return
        if image is None:
            ids.pop(index, None)
        else:
            ids[index] = None if layer_id is None else str(layer_id)

    def layers_podium(self, meeting_id: str, room: McuRoom) -> list[dict[str, Any]]:
        """The layers in a podium_update: each covers the canvas, under (-1) or over (1) the spots."""
        c = room.config
        return [
            {
                "user_id": None,
                "play_id": None,
                "layer_id": layer_id,
                "width": c.width,
                "height": c.height,
                "left": 0,
                "top": 0,
                "z-index": index,
            }
            for index, layer_id in sorted(self._layer_ids.get(meeting_id, {}).items())
        ]

    async def playback_gone(self, room: McuRoom | None, instance_id: str, meeting_id: str, play_id: str) -> None:
        """A playback ended by itself (or could not start again): the meeting's list without it, observers told.
        Nothing happens when a playback of that id plays (again) in the room."""
        if room is not None and any(p["play_id"] == play_id for p in room.playbacks()):
            return
        async with self.runtime.db.session() as session:
            meeting = await EyesonRepository(session, instance_id).meeting(meeting_id)
            if meeting is None or not any(p.get("play_id") == play_id for p in meeting.playbacks or []):
                return
            meeting.playbacks = [p for p in meeting.playbacks or [] if p.get("play_id") != play_id]
            event = {"type": "playback_update", "playing": playing(meeting)}
        await events.publish(self.runtime, meeting_id, event)

    async def forget(self, meeting_id: str) -> None:
        """The meeting ended: its stored layer pictures go."""
        self._layer_ids.pop(meeting_id, None)
        instance_id = self._instances.pop(meeting_id, None)
        if instance_id is not None:
            await self.runtime.storage.delete_prefix(f"eyeson/{instance_id}/layers/{meeting_id}")

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
