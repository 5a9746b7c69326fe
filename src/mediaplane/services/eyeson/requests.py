"""Media requests: work on a meeting's room whose caller needs the outcome (a playback that does not open is
the caller's 400), wherever the room runs.

The room here: done here. Otherwise the request goes out on the event bus with a reply channel of its own; the
process that holds the room answers "accepted" at once, then the result or the error (answers.py). No
"accepted" within ACK_WAIT: no process holds the room (`NoRoom`). The in-process bus reaches no other process,
so there the room is here or nowhere, at once."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

from mediaplane.core.runtime import Runtime
from mediaplane.kit.events import EventBusError, InMemoryEventBus, Subscription
from mediaplane.services.eyeson import answers
from mediaplane.services.eyeson.errors import EyesonError
from mediaplane.services.eyeson.media import MEDIA_CHANNEL, media_rooms
from mediaplane.services.eyeson.models import EyesonMeeting

ACK_WAIT = 3.0
"""Seconds for the process that holds the room to take a request; without an answer, none holds it."""
ANSWER_WAIT = 30.0
"""Seconds for its outcome once taken: a playback's file opens within 10 s, a WHIP endpoint answers within 15."""


class NoRoom(Exception):
    """No serving process holds the meeting's room: its media is not running."""


async def media_request(
    runtime: Runtime, meeting_id: str, op: str, *, within: float = ANSWER_WAIT, **args: Any
) -> dict[str, Any]:
    """The outcome of `op` on the meeting's room (answers.py): its result, or the EyesonError it raised (504
    when it took longer than `within` seconds); NoRoom when no process holds the room."""
    rooms = media_rooms(runtime)
    command = {"meeting_id": meeting_id, "op": op, **args}
    room = rooms.rooms.get(meeting_id)
    if room is not None:
        return await answers.run(rooms, room, command)
    if isinstance(runtime.events, InMemoryEventBus):
        raise NoRoom(meeting_id)
    request_id = uuid.uuid4().hex
    reply_to = f"{MEDIA_CHANNEL}.reply.{request_id}"
    request = {**command, "origin": rooms.origin, "request_id": request_id, "reply_to": reply_to}
    try:
        async with runtime.events.subscribe(reply_to) as replies:
            await runtime.events.publish(MEDIA_CHANNEL, request)
            reply = await _next(replies, ACK_WAIT)
            if reply is None:
                raise NoRoom(meeting_id)
            while reply.get("accepted"):
                reply = await _next(replies, within)
                if reply is None:
                    raise EyesonError(504, "the meeting's media did not answer in time")
    except EventBusError as exc:
        raise EyesonError(503, "the meeting's media cannot be reached") from exc
    if "error" in reply:
        raise EyesonError(int(reply.get("status") or 500), str(reply["error"]))
    return dict(reply.get("result") or {})


async def start_room(runtime: Runtime, meeting: EyesonMeeting) -> None:
    """The meeting's room runs: here, or in the process that holds it (it answers); otherwise it starts here —
    at once when it never ran (the meeting is not ready yet), so a new meeting waits for nobody."""
    rooms = media_rooms(runtime)
    if meeting.id in rooms.rooms:
        return
    if meeting.ready_at is not None:
        with contextlib.suppress(NoRoom):
            await media_request(runtime, meeting.id, "ping")
            return
    await rooms.ensure(meeting)


async def room_request(runtime: Runtime, meeting: EyesonMeeting, op: str, **args: Any) -> dict[str, Any]:
    """media_request; when no process holds the room, it starts here and does it (as a route that needs the
    room's media does in one process)."""
    try:
        return await media_request(runtime, meeting.id, op, **args)
    except NoRoom:
        rooms = media_rooms(runtime)
        room = await rooms.ensure(meeting)
        return await answers.run(rooms, room, {"meeting_id": meeting.id, "op": op, **args})


async def start_forward(
    runtime: Runtime,
    meeting: EyesonMeeting,
    forward_id: str,
    url: str,
    kinds: tuple[str, ...],
    *,
    what: str = "mcu",
    source_id: str = "",
) -> None:
    """A forward started by the process that holds the room (answers.py: 400, 404, 409). The room's picture
    starts the room here when none runs; one participant or playback is a 404 then."""
    args: dict[str, Any] = {
        "forward_id": forward_id,
        "url": url,
        "kinds": list(kinds),
        "what": what,
        "source_id": source_id,
    }
    if what == "mcu":
        await room_request(runtime, meeting, "forward_start", **args)
        return
    try:
        await media_request(runtime, meeting.id, "forward_start", **args)
    except NoRoom:
        raise answers.source_gone(what, source_id) from None


async def stop_forward(runtime: Runtime, meeting: EyesonMeeting, forward_id: str) -> bool:
    """False when no forward of that id runs (nor the room)."""
    try:
        result = await media_request(runtime, meeting.id, "forward_stop", forward_id=forward_id)
    except NoRoom:
        return False
    return bool(result.get("stopped"))


async def _next(replies: Subscription, within: float) -> dict[str, Any] | None:
    try:
        return await asyncio.wait_for(replies.__anext__(), within)
    except (TimeoutError, StopAsyncIteration):
        return None
