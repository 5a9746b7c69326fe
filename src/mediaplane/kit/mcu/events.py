"""What a room reports: events about participants, and snapshots of its state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, NotRequired, TypedDict

__all__ = ["EventCallback", "EventKind", "McuEvent", "McuStats", "ParticipantInfo", "Spot"]

EventKind = Literal["connected", "disconnected", "stalled", "resumed", "first_frame", "playback_ended", "forwarding"]


@dataclass(frozen=True, slots=True)
class McuEvent:
    """`connected`: the peer connection is up. `disconnected`: removed (left, failed or closed).
    `stalled` / `resumed`: its video stopped for stall_seconds / came back.
    `first_frame`: the first picture (composite or forwarded) went to that participant.
    `playback_ended`: a playback's file ended by itself (or broke); `participant_id` is then its play id.
    `forwarding`: who gets whose video forwarded changed (:meth:`McuRoom.forwarding`); `participant_id` is ""."""

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
    frames_forwarded: int
    """Encoded frames forwarded to receivers (each receiver counted), without decoding or encoding them."""
    forwarding: bool
    """Whether the room forwards (some) receivers' video now instead of composing for them."""
