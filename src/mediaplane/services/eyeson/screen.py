"""Screen sharing: a user's second media connection (`POST /rooms/:access_key/webrtc?source=screen`), which
only sends video. The room sees it as a participant of its own, `<user id>/screen` named `<name> (screen)`:
the auto layout places it as anyone (after its user, in join order), a custom layout names it by that id. Nothing
is sent back on it. It goes when its user's media leaves (DELETE, kick, a failed connection) or with
`DELETE …/webrtc?source=screen`; observers get a `participant_update` of the user with `screen` true or false,
and a `podium_update`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiortc.sdp import SessionDescription

from mediaplane.core.runtime import Runtime
from mediaplane.kit.mcu import McuEvent, McuOfferError
from mediaplane.kit.mcu.offer import offered_kinds
from mediaplane.services.eyeson import events
from mediaplane.services.eyeson.errors import EyesonError, bad_request
from mediaplane.services.eyeson.models import EyesonMeeting, EyesonUser
from mediaplane.services.eyeson.repository import EyesonRepository
from mediaplane.services.eyeson.views import participant

if TYPE_CHECKING:
    from mediaplane.services.eyeson.media import MediaRooms

SUFFIX = "/screen"
SOURCES = ("camera", "screen")


def screen_id(user_id: str) -> str:
    """The room's participant id of a user's screen."""
    return user_id + SUFFIX


def owner_of(participant_id: str) -> str | None:
    """The user id whose screen a participant id is; None for anything else."""
    return participant_id[: -len(SUFFIX)] if participant_id.endswith(SUFFIX) and participant_id != SUFFIX else None


def source_of(value: str | None) -> str:
    """The `source` query parameter: `camera` (the default: the user's main connection) or `screen`."""
    if value in (None, "", "camera"):
        return "camera"
    if value == "screen":
        return "screen"
    raise bad_request("source must be camera or screen")


def screen_offer(sdp: str) -> str:
    """The offer of a screen share, made send-only: the room answers it receive-only, so nothing comes back
    on that connection (a `sendrecv` video is narrowed; audio, or video the browser does not send, is a 400)."""
    try:
        kinds = offered_kinds(sdp)
    except McuOfferError as exc:
        raise bad_request(f"invalid SDP offer: {exc}") from None
    if kinds != {"video"}:
        raise bad_request("a screen share sends video only (no audio)")
    lines, kind = [], ""
    for line in sdp.splitlines():
        if line.startswith("m="):
            kind = line[2:].split(" ", 1)[0]
        lines.append("a=sendonly" if kind == "video" and line == "a=sendrecv" else line)
    narrowed = "\r\n".join(lines) + "\r\n"
    video = [m for m in SessionDescription.parse(narrowed).media if m.kind == "video" and m.port != 0]
    if not video or any(m.direction != "sendonly" for m in video):
        raise bad_request("a screen share's offer must send its video (sendonly)")
    return narrowed


async def connect_screen(
    rooms: MediaRooms, repo: EyesonRepository, meeting: EyesonMeeting, user: EyesonUser, offer_sdp: str
) -> str:
    """Answers the offer of a user's screen share (a new one replaces the user's previous screen)."""
    if user.banned_at is not None:
        raise EyesonError(403, "you are banned from this meeting")
    sdp = screen_offer(offer_sdp)
    if await repo.user(meeting.id, screen_id(user.user_id)) is not None:
        # A user whose id is this user's screen id would share its participant id in the room.
        raise EyesonError(409, f"a user of this meeting has the id {screen_id(user.user_id)}")
    room = await rooms.ensure(meeting)
    try:
        return await room.connect(screen_id(user.user_id), f"{user.name} (screen)", sdp)
    except ValueError as exc:
        raise bad_request(f"invalid SDP offer: {exc}") from None


async def screen_event(rooms: MediaRooms, instance_id: str, meeting_id: str, event: McuEvent) -> bool:
    """A screen share connected or left: the user's participant_update (with `screen`) and the podium. False
    when the participant is no screen (not `<id>/screen`, or a user of the meeting has that very id)."""
    owner = owner_of(event.participant_id)
    if owner is None or event.kind not in ("connected", "disconnected"):
        return False
    async with rooms.runtime.db.session() as session:
        repo = EyesonRepository(session, instance_id)
        meeting = await repo.meeting(meeting_id)
        if meeting is None or await repo.user(meeting_id, event.participant_id) is not None:
            return False
        user = await repo.user(meeting_id, owner)
        if user is None:
            return True
        body = {**participant(user, meeting), "screen": event.kind == "connected"}
    await events.publish(rooms.runtime, meeting_id, {"type": "participant_update", "participant": body})
    room = rooms.rooms.get(meeting_id)
    if room is not None:
        await rooms.publish_podium(meeting_id, room)
    return True


async def user_left(rooms: MediaRooms, meeting_id: str, user_id: str) -> None:
    """A user's media left: their screen goes too (in this process, where the room runs)."""
    room = rooms.rooms.get(meeting_id)
    if room is not None:
        await room.disconnect(screen_id(user_id))


async def stop_screen(runtime: Runtime, meeting: EyesonMeeting, user: EyesonUser) -> None:
    """`DELETE …/webrtc?source=screen`: the user's screen share stops (wherever the room runs)."""
    from mediaplane.services.eyeson.media import media_command

    await media_command(runtime, meeting.id, "disconnect", user_id=screen_id(user.user_id))
