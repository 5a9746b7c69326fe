"""What a room reports: events about participants, and snapshots of its state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

__all__ = ["EventCallback", "EventKind", "McuEvent", "McuStats", "ParticipantInfo", "Spot"]

EventKind = Literal["connected", "disconnected", "stalled", "resumed", "first_frame", "playback_ended"]


@dataclass(frozen=True, slots=True)
class McuEvent:
    """`connected`: the peer connection is up. `disconnected`: removed (left, failed or closed).
    `stalled` / `resumed`: its video stopped for stall_seconds / came back.
    `first_frame`: the first composite frame went to that participant.
    `playback_ended`: a playback's file ended by itself (or broke); `participant_id` is then its play id."""

    kind: EventKind
    participant_id: str


EventCallback = Callable[[McuEvent], Awaitable[None] | None]


class ParticipantInfo(TypedDict):
    id: str
    name: str
    connected: bool
    receiving_video: bool
    receiving_audio: bool
    stalled: bool


class Spot(TypedDict):
    user_id: str
    """"" for an empty spot; a playback's own spot has its play id."""
    left: int
    top: int
    width: int
    height: int
    play_id: NotRequired[str]
    """The playback shown in the spot, when one is."""


class McuStats(TypedDict):
    frames_composed: int
    frames_encoded: int
    """Frames the room's own (shared) encoder encoded; per-receiver encodes happen in aiortc's senders."""
    keyframes: int
    participants: int
