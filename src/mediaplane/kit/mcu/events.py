"""What a room reports: events about participants, and snapshots of its state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, TypedDict

__all__ = ["EventCallback", "EventKind", "McuEvent", "McuStats", "ParticipantInfo", "Spot"]

EventKind = Literal["connected", "disconnected", "stalled", "resumed", "first_frame"]


@dataclass(frozen=True, slots=True)
class McuEvent:
    """`connected`: the peer connection is up. `disconnected`: removed (left, failed or closed).
    `stalled` / `resumed`: its video stopped for stall_seconds / came back.
    `first_frame`: the first composite frame went to that participant."""

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
    """"" for an empty spot."""
    left: int
    top: int
    width: int
    height: int


class McuStats(TypedDict):
    frames_composed: int
    frames_encoded: int
    """Frames the room's own (shared) encoder encoded; per-receiver encodes happen in aiortc's senders."""
    keyframes: int
    participants: int
