"""The JSON shapes of eyeson's API and events: rooms, users, participants, the room response."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from mediaplane.services.eyeson.models import EyesonMeeting, EyesonUser
from mediaplane.services.eyeson.roomopts import public_options
from mediaplane.services.eyeson.scene import playing


def iso(moment: datetime | None) -> str | None:
    """eyeson's timestamps: ISO 8601 with milliseconds and Z."""
    if moment is None:
        return None
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Links:
    """Where this instance answers: its API base (ends with /) and how browsers reach it."""

    base: str

    def room(self, access_key: str) -> str:
        return f"{self.base}rooms/{access_key}"

    def gui(self, access_key: str) -> str:
        return f"{self.base}gui/?{access_key}"

    def guest_join(self, guest_token: str) -> str:
        return f"{self.base}gui/?guest={guest_token}"

    def websocket(self, access_key: str) -> str:
        return f"{self.base}rt?access_key={access_key}"

    def webrtc(self, access_key: str) -> str:
        return f"{self.base}rooms/{access_key}/webrtc"


def is_ready(meeting: EyesonMeeting) -> bool:
    return meeting.ready_at is not None and meeting.shutdown_at is None


def room_info(meeting: EyesonMeeting) -> dict[str, Any]:
    info: dict[str, Any] = {
        "id": meeting.room_id,
        "name": meeting.name,
        "ready": is_ready(meeting),
        "started_at": iso(meeting.started_at),
        "shutdown": meeting.shutdown_at is not None,
    }
    if meeting.options.get("guest_token_available", True):
        info["guest_token"] = meeting.guest_token
    return info


def user_info(user: EyesonUser) -> dict[str, Any]:
    """GET /rooms/:access_key/users/:user_id."""
    return {
        "id": user.user_id,
        "name": user.name,
        "avatar": user.avatar,
        "guest": user.guest,
        "joined_at": iso(user.joined_at),
    }


def participant(user: EyesonUser, meeting: EyesonMeeting) -> dict[str, Any]:
    """A user in listings and participant_update events; online while their media is connected."""
    return {
        "id": user.user_id,
        "room_id": meeting.room_id,
        "name": user.name,
        "avatar": user.avatar,
        "guest": user.guest,
        "online": user.online,
    }


def room_response(
    meeting: EyesonMeeting,
    user: EyesonUser,
    team_name: str,
    links: Links,
    *,
    stun_urls: list[str],
    broadcasts: list[dict[str, Any]] | None = None,
    recording: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What POST /rooms, GET /rooms/:access_key and POST /guests/:token answer; `broadcasts` are the running
    ones (broadcast.state.running_views)."""
    ready = is_ready(meeting)
    user_ready = ready and user.kicked_at is None
    links_body = {
        "self": links.room(user.access_key),
        "gui": links.gui(user.access_key),
        "websocket": links.websocket(user.access_key),
    }
    if meeting.options.get("guest_token_available", True):
        links_body["guest_join"] = links.guest_join(meeting.guest_token)
    return {
        "access_key": user.access_key,
        "ready": ready and user_ready,
        "locked": meeting.locked,
        "room": room_info(meeting),
        "team": {"name": team_name},
        "user": {
            "id": user.user_id,
            "room_id": meeting.room_id,
            "name": user.name,
            "avatar": user.avatar,
            "guest": user.guest,
            "blocked": user.kicked_at is not None,
            "ready": user_ready,
        },
        "links": links_body,
        "options": public_options(meeting.options, meeting.layout),
        "playbacks": playing(meeting),
        "presentation": None,
        "broadcasts": broadcasts or [],
        "recording": recording,
        "snapshots": [],
        # Not eyeson's SEPP: one HTTP offer/answer exchange (POST the offer SDP, get the answer).
        "signaling": {
            "type": "webrtc",
            "options": {"endpoint": links.webrtc(user.access_key), "stun_servers": stun_urls},
        },
    }


def room_content(
    meeting: EyesonMeeting,
    users: list[EyesonUser],
    *,
    broadcasts: list[dict[str, Any]] | None = None,
    recording: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The `content` of a realtime room_update: the room with its options, participants and broadcasts."""
    return {
        **room_info(meeting),
        "options": public_options(meeting.options, meeting.layout),
        "participants": [participant(u, meeting) for u in users if u.kicked_at is None],
        "playbacks": playing(meeting),
        "presentation": None,
        "broadcasts": broadcasts or [],
        "recording": recording,
    }
