"""The rooms' media in this process: one composing MCU room (kit.mcu) per running meeting, started with the
meeting, fed by the participants' WebRTC connections; what it reports (a user's media up or down) goes to the
database and the realtime stream.

A meeting's media lives in the process that started it; with several API processes, the routes of one room
must reach the same one (see docs/eyeson.md). Commands from other processes come over the event bus: one-way
(`media_command`), or requests whose caller waits for the outcome (requests.py asks, answers.py answers)."""

from __future__ import annotations

import asyncio
import logging
import uuid
import weakref
from typing import Any

from aiortc import RTCIceServer

from mediaplane.core.runtime import Runtime
from mediaplane.kit.events import EventBusError
from mediaplane.kit.mcu import MAX_SPOTS, McuConfig, McuEvent, McuLayoutError, McuRoom, restrict_ice_hosts
from mediaplane.kit.mcu.layout import snap_rects
from mediaplane.services.eyeson import answers, events, screen
from mediaplane.services.eyeson.broadcast.broadcaster import broadcasters
from mediaplane.services.eyeson.errors import EyesonError, bad_request
from mediaplane.services.eyeson.forward import forwards
from mediaplane.services.eyeson.layouts import grid_size, named_rects
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonUser
from mediaplane.services.eyeson.recording.recorder import recorders
from mediaplane.services.eyeson.repository import EyesonRepository
from mediaplane.services.eyeson.scene import SCENE_OPS, Scene
from mediaplane.services.eyeson.sfu import forwarding, sfu_podium
from mediaplane.services.eyeson.views import participant

log = logging.getLogger(__name__)
EXTRAS_KEY = "eyeson.media"
MEDIA_CHANNEL = "eyeson.media"
WIDESCREEN_HEIGHT = 720


class MediaRooms:
    """The MCU rooms of this process, by meeting id."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.rooms: dict[str, McuRoom] = {}
        self.origin = uuid.uuid4().hex  # these rooms, so that they skip their own commands coming back over the bus
        self._lock = asyncio.Lock()
        self._answering: set[asyncio.Task[None]] = set()  # requests of other processes being done here
        # The room reports each event in a task of its own: one meeting's are recorded one at a time, in order
        # (FIFO lock), so a quick join-then-leave never ends as online.
        self._recording: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.scene = Scene(runtime)  # layers, playbacks, muted users

    def config(self, meeting: EyesonMeeting) -> McuConfig:
        settings = self.runtime.settings
        height = settings.eyeson_height
        if meeting.options.get("widescreen"):
            height = settings.eyeson_width * 9 // 16
        return McuConfig(
            width=settings.eyeson_width,
            height=height,
            fps=settings.eyeson_fps,
            background=str(meeting.options.get("background_color") or "#121212"),
            show_names=bool(meeting.layout.get("show_names", True)),
            ice_servers=tuple(RTCIceServer(urls=url) for url in settings.eyeson_stun_urls),
            forwarding=forwarding(meeting.options),
        )

    async def ensure(self, meeting: EyesonMeeting) -> McuRoom:
        """The meeting's room, started when it is not running here yet."""
        async with self._lock:
            room = self.rooms.get(meeting.id)
            if room is None:
                if self.runtime.settings.eyeson_ice_host:
                    restrict_ice_hosts([self.runtime.settings.eyeson_ice_host])
                room = McuRoom(self.config(meeting), on_event=self._listener(meeting.instance_id, meeting.id))
                await room.start()
                self.rooms[meeting.id] = room
                apply_layout(room, meeting.layout)
                await self.scene.restore(room, meeting)
            return room

    async def connect(self, meeting: EyesonMeeting, user: EyesonUser, offer_sdp: str) -> str:
        if user.banned_at is not None:
            raise EyesonError(403, "you are banned from this meeting")
        room = await self.ensure(meeting)
        room.set_muted(user.user_id, user.muted)
        try:
            return await room.connect(user.user_id, user.name, offer_sdp)
        except ValueError as exc:
            raise bad_request(f"invalid SDP offer: {exc}") from None

    async def close_room(self, meeting_id: str) -> None:
        async with self._lock:
            room = self.rooms.pop(meeting_id, None)
        if room is not None:
            broadcasters(self.runtime).stop_meeting(meeting_id)
            await forwards(self.runtime).stop_meeting(meeting_id)
            await room.close()

    async def close(self) -> None:
        for task in list(self._answering):
            task.cancel()
        await asyncio.gather(*self._answering, return_exceptions=True)
        for meeting_id in list(self.rooms):
            await self.close_room(meeting_id)
        await self.scene.close()
        await broadcasters(self.runtime).close()
        await forwards(self.runtime).close()
        await recorders(self.runtime).close()  # their files are finished and stored before the process goes

    async def apply(self, command: dict[str, Any]) -> None:
        """A command from any process, for a room that runs here."""
        if command.get("origin") == self.origin and command.get("relayed"):
            return
        meeting_id = str(command.get("meeting_id"))
        room = self.rooms.get(meeting_id)
        if room is None:
            return
        if command.get("reply_to"):  # a request: done beside the other commands (it may take seconds)
            task = asyncio.ensure_future(answers.answer(self, room, command))
            self._answering.add(task)
            task.add_done_callback(self._answering.discard)
            return
        op = command.get("op")
        if op == "shutdown":
            await self.close_room(meeting_id)
            await self.scene.forget(meeting_id)
        elif op in SCENE_OPS:
            if await self.scene.apply(room, meeting_id, command):
                await self.publish_podium(meeting_id, room)
        elif op == "disconnect":
            await room.disconnect(str(command.get("user_id")))
        elif op == "record_stop":
            recorders(self.runtime).stop(meeting_id, command.get("recording_id"), discard=bool(command.get("discard")))
        elif op == "layout":
            apply_layout(room, dict(command.get("layout") or {}))
            await self.publish_podium(meeting_id, room)
        elif op == "broadcast_stop":
            broadcasters(self.runtime).stop(meeting_id, [str(i) for i in command.get("broadcast_ids") or []])

    async def publish_podium(self, meeting_id: str, room: McuRoom) -> None:
        forwarded = sfu_podium(room)  # sfu.py: while the room forwards video instead of composing
        spots = forwarded or podium(room, self.scene.layers_podium(meeting_id, room))
        event = {"type": "podium_update", "podium": spots, "sfu": forwarded is not None}
        await events.publish(self.runtime, meeting_id, event)

    def _listener(self, instance_id: str, meeting_id: str) -> Any:
        async def on_event(event: McuEvent) -> None:
            try:
                async with self._recording.setdefault(meeting_id, asyncio.Lock()):
                    await self._record(instance_id, meeting_id, event)
            except Exception:  # a database hiccup must not stop the room's media
                log.exception("eyeson: media event %s of meeting %s not recorded", event.kind, meeting_id)

        return on_event

    async def _record(self, instance_id: str, meeting_id: str, event: McuEvent) -> None:
        if event.kind == "forwarding":  # the SFU shortcut started or stopped
            if (room := self.rooms.get(meeting_id)) is not None:
                await self.publish_podium(meeting_id, room)
            return
        if event.kind == "playback_ended":
            room = self.rooms.get(meeting_id)
            await self.scene.playback_gone(room, instance_id, meeting_id, event.participant_id)
            if room is not None:
                await self.publish_podium(meeting_id, room)
            return
        if event.kind not in ("connected", "disconnected"):
            return
        if await screen.screen_event(self, instance_id, meeting_id, event):
            return
        if event.kind == "disconnected":
            await screen.user_left(self, meeting_id, event.participant_id)  # their screen share goes too
        now = self.runtime.clock.now()
        async with self.runtime.db.session() as session:
            repo = EyesonRepository(session, instance_id)
            meeting = await repo.meeting(meeting_id)
            user = await repo.user(meeting_id, event.participant_id) if meeting is not None else None
            if meeting is None or user is None:
                return
            if event.kind == "connected":
                user.online, user.online_at, user.kicked_at = True, now, None
                meeting.had_media = True
            else:
                user.online, user.left_at = False, now
            meeting.last_active_at = now
            body = participant(user, meeting)
        await events.publish(self.runtime, meeting_id, {"type": "participant_update", "participant": body})
        room = self.rooms.get(meeting_id)
        if room is not None:
            await self.publish_podium(meeting_id, room)


Placement = tuple[list[str] | None, list[tuple[int, int, int, int]] | None]


def placement(layout: dict[str, Any], width: int, height: int) -> Placement:
    """What the composer is told for a layout: the podium spots (None: everyone in join order) and their
    rectangles (None: the grid). Auto tiles everyone; custom places the podium users ("" is an empty spot); a
    named presentation layout or a pixel map gives the rectangles (filled in join order when auto), a named grid
    (four, nine…) the number of spots. McuLayoutError when the canvas cannot hold it."""
    auto = layout.get("layout", "auto") == "auto"
    users = list(layout.get("users") or [])
    name = layout.get("name")
    rects: list[tuple[int, int, int, int]] | None = None
    if layout.get("map"):
        rects = [(int(s[0]), int(s[1]), int(s[2]), int(s[3])) for s in layout["map"]]
    elif name:
        rects = named_rects(str(name), width, height)
        size = grid_size(name)
        if rects is None and size is not None and not auto:
            users = (users + [""] * size)[:size]
    if rects is not None:
        snap_rects(rects, width, height)
        return (None if auto else users), rects
    if auto:
        return None, None
    if len(users) > MAX_SPOTS:
        raise McuLayoutError(f"a podium without a map has at most {MAX_SPOTS} spots")
    return users, None


def apply_layout(room: McuRoom, layout: dict[str, Any]) -> None:
    room.set_show_names(bool(layout.get("show_names", True)))
    spots, rects = placement(layout, room.config.width, room.config.height)
    room.set_layout(spots, rects)


def podium(room: McuRoom, layers: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The podium_update shape of the room's current spots (a playback's own spot has no user_id), and the
    layers given (Scene.layers_podium)."""
    spots = [
        {
            "user_id": None if spot.get("play_id") == spot["user_id"] else spot["user_id"],
            "play_id": spot.get("play_id"),
            "width": spot["width"],
            "height": spot["height"],
            "left": spot["left"],
            "top": spot["top"],
            "z-index": 0,
        }
        for spot in room.podium()
    ]
    return [*spots, *(layers or [])]


def media_rooms(runtime: Runtime) -> MediaRooms:
    rooms = runtime.extras.get(EXTRAS_KEY)
    if not isinstance(rooms, MediaRooms):
        rooms = MediaRooms(runtime)
        runtime.extras[EXTRAS_KEY] = rooms
    return rooms


async def media_command(runtime: Runtime, meeting_id: str, op: str, **args: Any) -> None:
    """Tells the room's media, here and in every other serving process (shutdown, disconnect, layout), without
    waiting for an outcome; requests.py when the caller needs one."""
    rooms = media_rooms(runtime)
    command = {"meeting_id": meeting_id, "op": op, "origin": rooms.origin, **args}
    await rooms.apply(command)
    try:
        await runtime.events.publish(MEDIA_CHANNEL, command)
    except EventBusError as exc:
        log.warning("eyeson: media command %s not published: %s", op, exc)
