"""The room's picture: composed in the room's one video thread and (once for every receiver) encoded there; the
event loop takes a snapshot of what to show and hands out what comes back."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

from av import Packet, VideoFrame

from mediaplane.kit.mcu.compositor import Compositor, Tile
from mediaplane.kit.mcu.config import McuConfig
from mediaplane.kit.mcu.encoder import VideoEncoder
from mediaplane.kit.mcu.overlay import Foreground
from mediaplane.kit.mcu.participant import Participant
from mediaplane.kit.mcu.picture import Planes
from mediaplane.kit.mcu.tap import McuTap

__all__ = ["Composer", "Layers", "deliver", "paced"]

logger = logging.getLogger(__name__)

Layers = tuple[Planes | None, Foreground | None]
"""(background, foreground)"""


class Composer:
    """Compose, then encode, one frame at a time in a worker thread of its own. pts count 1/90000 from
    `started_at` (the room's start, from which the audio counts too)."""

    def __init__(self, config: McuConfig, started_at: float) -> None:
        c = config
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mcu-video")
        self._compositor = Compositor(c.width, c.height, c.background_rgb)
        self.encoder = VideoEncoder(c.width, c.height, c.fps, c.bitrate)
        self._started_at = started_at
        self._last_pts = -1
        self.composed = 0

    def pts(self, now: float) -> int:
        self._last_pts = max(self._last_pts + 1, int((now - self._started_at) * 90000))
        return self._last_pts

    async def make(
        self, tiles: list[Tile], layers: Layers, show_names: bool, now: float, encode: bool, keyframe: bool
    ) -> tuple[VideoFrame, list[Packet]]:
        loop = asyncio.get_running_loop()
        args = (tiles, layers, show_names, self.pts(now), encode, keyframe)
        made = await loop.run_in_executor(self._executor, self._render, *args)
        self.composed += 1
        return made

    def _render(
        self, tiles: list[Tile], layers: Layers, show_names: bool, pts: int, encode: bool, keyframe: bool
    ) -> tuple[VideoFrame, list[Packet]]:
        """In the video thread: compose, then (once for everyone) encode."""
        background, foreground = layers
        frame = self._compositor.compose(tiles, show_names, pts, background=background, foreground=foreground)
        packets = self.encoder.encode(frame, keyframe) if encode else []
        return frame, packets

    async def close(self) -> None:
        """Waits for the video thread to end."""
        await asyncio.to_thread(self._executor.shutdown, wait=True)
        self.encoder.close()


async def paced(fps: int, tick: Callable[[float], Awaitable[None]], failure: str) -> None:
    """Awaits `tick(now)` `fps` times a second until cancelled; one that fails is logged (`failure`) and the next
    follows. Behind (a slow encode), it carries on from now rather than burst to catch up."""
    period = 1 / fps
    next_at = time.monotonic()
    while True:
        try:
            await tick(time.monotonic())
        except Exception:  # one bad frame must not freeze the room
            logger.exception(failure)
        next_at += period
        delay = next_at - time.monotonic()
        if delay < 0:
            next_at, delay = time.monotonic(), 0
        await asyncio.sleep(delay)


def deliver(members: Iterable[Participant], taps: Iterable[McuTap], frame: VideoFrame, packets: list[Packet]) -> None:
    """A composed frame and its packets to each receiver's video track (which takes them while its source is the
    composite) and to the taps."""
    for participant in members:
        track = participant.video_out
        if track is None:
            continue
        if track.encoded:
            for packet in packets:
                track.offer(packet)
        else:
            track.offer(frame)
    for tap in taps:
        if tap.pictures:
            tap.offer_picture(frame)
            continue
        for packet in packets:
            tap.offer_packet(packet)
