"""A room's settings: canvas, frame rate, names, encoding, forwarding and ICE servers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from aiortc import RTCIceServer
from PIL import ImageColor

__all__ = ["Forwarding", "McuConfig"]

Forwarding = Literal["off", "pairs", "screen"]
FORWARDINGS = ("off", "pairs", "screen")

REFERENCE_PIXELS = 1280 * 960
REFERENCE_BITRATE = 1_500_000
MIN_BITRATE = 250_000


def parse_colour(colour: str) -> tuple[int, int, int]:
    try:
        r, g, b = ImageColor.getrgb(colour)[:3]
    except ValueError as exc:
        raise ValueError(f"{colour!r} is not a colour") from exc
    return r, g, b


@dataclass(frozen=True, slots=True)
class McuConfig:
    """Settings of one room. Width and height must be even (the picture is yuv420p)."""

    width: int = 1280
    height: int = 960
    fps: int = 15
    background: str = "#121212"
    """Any colour Pillow reads: "#121212", "rgb(18,18,18)", "black"."""
    show_names: bool = True
    shared_encoder: bool = True
    """One VP8 encode for every receiver; False lets aiortc encode per receiver (for comparison)."""
    video_bitrate: int | None = None
    """Bits per second of the shared encoder; None: 1.5 Mbit/s at 1280x960, scaled by area, at least 250 kbit/s."""
    stall_seconds: float = 2.0
    """A participant whose video stops this long shows a placeholder and is reported stalled."""
    keyframe_interval: float = 3.0
    keyframe_min_gap: float = 0.5
    """Keyframes asked for by receivers (join, PLI/FIR) come at most this often."""
    ice_servers: tuple[RTCIceServer, ...] = ()
    """STUN/TURN servers for the room's peer connections; none by default (host candidates only)."""
    forwarding: Forwarding = "off"
    """When receivers get another participant's video as it comes instead of the composite (forward.py):
    "off" never; "pairs" while the room holds exactly two participants (no screen share) that send video;
    "screen" while exactly one screen share sends video, to everyone else. Only while nothing needs the
    composer (a tap, a layer, a playback, a custom layout)."""
    screen_suffix: str = "/screen"
    """Participant ids ending in this are screen shares (for `forwarding`)."""

    def __post_init__(self) -> None:
        if not (16 <= self.width <= 4096 and 16 <= self.height <= 4096):
            raise ValueError(f"canvas {self.width}x{self.height} is outside 16..4096")
        if self.width % 2 or self.height % 2:
            raise ValueError(f"canvas {self.width}x{self.height}: width and height must be even")
        if not 1 <= self.fps <= 60:
            raise ValueError(f"fps {self.fps} is outside 1..60")
        if self.stall_seconds <= 0 or self.keyframe_interval <= 0 or self.keyframe_min_gap < 0:
            raise ValueError("stall_seconds and keyframe_interval must be positive")
        if self.video_bitrate is not None and self.video_bitrate < 50_000:
            raise ValueError(f"video_bitrate {self.video_bitrate} is below 50 kbit/s")
        if self.forwarding not in FORWARDINGS:
            raise ValueError(f"forwarding {self.forwarding!r} is not one of {', '.join(FORWARDINGS)}")
        parse_colour(self.background)

    @property
    def background_rgb(self) -> tuple[int, int, int]:
        return parse_colour(self.background)

    @property
    def bitrate(self) -> int:
        if self.video_bitrate is not None:
            return self.video_bitrate
        scaled = REFERENCE_BITRATE * self.width * self.height // REFERENCE_PIXELS
        return max(MIN_BITRATE, scaled)
