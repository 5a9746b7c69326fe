"""What the process that holds a meeting's room does for a media request (requests.py asks): the work on the
room, and, for a request from another process, its outcome on the asker's reply channel — "accepted" at once,
then the result or the error (`status`, `error`: the EyesonError the asker raises in turn).

One handler per request op. A module that adds media work may register its own with `@handles("op")`, as long
as every serving process imports it (the routes' modules are)."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from av import VideoFrame

from mediaplane.kit.errors import MediaplaneError
from mediaplane.kit.events import EventBusError
from mediaplane.kit.mcu import McuClosedError, McuNotFoundError, McuRoom
from mediaplane.services.eyeson.broadcast.broadcaster import broadcasters
from mediaplane.services.eyeson.errors import EyesonError, bad_request, not_found
from mediaplane.services.eyeson.forward import ForwardError, forwards
from mediaplane.services.eyeson.forward.whip import Media
from mediaplane.services.eyeson.recording.recorder import recorders

if TYPE_CHECKING:
    from mediaplane.services.eyeson.media import MediaRooms

log = logging.getLogger(__name__)
JPEG_QUALITY = 90
PICTURE_WAIT = 2.0
"""Seconds a snapshot waits for the room's first picture (a room that has just started, or that forwards video
instead of composing: sfu.py)."""

Command = dict[str, Any]
Handler = Callable[["MediaRooms", McuRoom, Command], Awaitable[dict[str, Any]]]
HANDLERS: dict[str, Handler] = {}


def handles(op: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        HANDLERS[op] = handler
        return handler

    return register


async def run(rooms: MediaRooms, room: McuRoom, command: Command) -> dict[str, Any]:
    """The request's work on a room of this process: its result (JSON), or an EyesonError."""
    handler = HANDLERS.get(str(command.get("op")))
    if handler is None:  # a caller's mistake, never the client's
        raise ValueError(f"unknown media request {command.get('op')!r}")
    return await handler(rooms, room, command)


async def answer(rooms: MediaRooms, room: McuRoom, command: Command) -> None:
    """A request from another process for a room here: taken, done, and its outcome sent back."""
    events, reply_to = rooms.runtime.events, str(command["reply_to"])
    request_id = command.get("request_id")
    try:
        await events.publish(reply_to, {"request_id": request_id, "accepted": True})
        try:
            outcome: dict[str, Any] = {"request_id": request_id, "result": await run(rooms, room, command)}
        except MediaplaneError as exc:
            outcome = {"request_id": request_id, "status": exc.status_code, "error": exc.message}
        except Exception:
            log.exception("eyeson: media request %s of meeting %s failed", command.get("op"), command["meeting_id"])
            outcome = {"request_id": request_id, "status": 500, "error": "the meeting's media failed"}
        await events.publish(reply_to, outcome)
    except EventBusError as exc:
        log.warning("eyeson: media request %s not answered: %s", command.get("op"), exc)


def jpeg(frame: VideoFrame) -> bytes:
    out = io.BytesIO()
    frame.to_image().save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


@handles("ping")
async def ping(rooms: MediaRooms, room: McuRoom, command: Command) -> dict[str, Any]:
    """Nothing: the answer says that the room runs here."""
    return {}


@handles("playback_start")
async def start_playback(rooms: MediaRooms, room: McuRoom, command: Command) -> dict[str, Any]:
    """The room opens the file before it answers: one that does not play is a 400 (scene.py)."""
    meeting_id = str(command["meeting_id"])
    if await rooms.scene.apply(room, meeting_id, command):
        await rooms.publish_podium(meeting_id, room)
    return {}


@handles("record_start")
async def start_recording(rooms: MediaRooms, room: McuRoom, command: Command) -> dict[str, Any]:
    ids = {name: str(command[name]) for name in ("instance_id", "meeting_id", "recording_id")}
    if not recorders(rooms.runtime).start(room, **ids):  # another request started one a moment ago
        raise EyesonError(406, "a recording is running already")
    return {}


@handles("broadcast_start")
async def start_broadcast(rooms: MediaRooms, room: McuRoom, command: Command) -> dict[str, Any]:
    instance_id, meeting_id, broadcast_id = (str(command[k]) for k in ("instance_id", "meeting_id", "broadcast_id"))
    broadcasters(rooms.runtime).start(room, instance_id, meeting_id, broadcast_id, str(command["stream_url"]))
    return {}


@handles("snapshot")
async def snapshot(rooms: MediaRooms, room: McuRoom, command: Command) -> dict[str, Any]:
    """The room's picture now, as a JPEG (base64: it travels as JSON)."""
    picture = await room.fresh_picture(PICTURE_WAIT)
    if picture is None:
        raise EyesonError(409, "the room has no picture yet")
    data = await asyncio.to_thread(jpeg, picture)
    return {"jpeg": base64.b64encode(data).decode("ascii")}


def source_gone(what: str, source_id: str) -> EyesonError:
    """What a forward of one participant or playback answers when it is not in the room (or no room runs)."""
    return not_found(f"user {source_id} is not connected" if what == "source" else "no playback of that play_id runs")


@handles("forward_start")
async def start_forward(rooms: MediaRooms, room: McuRoom, command: Command) -> dict[str, Any]:
    """A forward (forward/) of the room's picture (`what` mcu), one participant (source: `source_id` is the
    user) or one playback (playback: the play_id): 409 when it runs already, 404 when its source is not in the
    room, 400 when the WHIP endpoint cannot be reached or refuses the offer."""
    running = forwards(rooms.runtime)
    meeting_id, forward_id = str(command["meeting_id"]), str(command["forward_id"])
    what, source_id = str(command.get("what") or "mcu"), str(command.get("source_id") or "")
    kinds = tuple(str(kind) for kind in command.get("kinds") or ())
    if running.has(meeting_id, forward_id):
        raise EyesonError(409, f"forward {forward_id} runs already")
    media: Media
    ask_keyframe: Callable[[], None] | None = None
    try:
        if what == "source":
            feed = room.source_tap(source_id, kinds)
            media, ask_keyframe = feed, feed.want_keyframe
        elif what == "playback":
            media = room.playback_tap(source_id, kinds)
        else:
            tap = room.tap()
            media, ask_keyframe = tap, tap.want_keyframe
    except (McuNotFoundError, McuClosedError):
        raise source_gone(what, source_id) from None
    try:
        await running.send(meeting_id, forward_id, str(command["url"]), kinds, media, ask_keyframe)
    except ForwardError as exc:
        raise bad_request(str(exc)) from None
    return {}


@handles("forward_stop")
async def stop_forward(rooms: MediaRooms, room: McuRoom, command: Command) -> dict[str, Any]:
    stopped = await forwards(rooms.runtime).stop(str(command["meeting_id"]), str(command["forward_id"]))
    return {"stopped": stopped}
