"""The room's audio loop: every 20 ms on the event loop (a few numpy sums), each listener gets everyone's voice
but their own, the taps the full mix."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping

from mediaplane.kit.mcu.audio import FRAME_SAMPLES, SAMPLE_RATE, Samples, mix_minus
from mediaplane.kit.mcu.participant import Participant
from mediaplane.kit.mcu.source import PLAYBACK_VOICE, Playback
from mediaplane.kit.mcu.tap import McuTap

__all__ = ["mix_room", "run_audio"]

logger = logging.getLogger(__name__)

AUDIO_PERIOD = FRAME_SAMPLES / SAMPLE_RATE
AUDIO_CATCH_UP = 10
"""Audio ticks made up after the loop was held up; beyond that the mix skips ahead."""


async def run_audio(started_at: float, mix: Callable[[int], None]) -> None:
    """Calls `mix(pts)` every 20 ms from `started_at` (pts in 1/48000), until cancelled."""
    tick = 0
    while True:
        late = time.monotonic() - (started_at + tick * AUDIO_PERIOD)
        if late < 0:
            await asyncio.sleep(-late)
        elif late > AUDIO_CATCH_UP * AUDIO_PERIOD:
            tick += int(late / AUDIO_PERIOD)
        try:
            mix(tick * FRAME_SAMPLES)
        except Exception:
            logger.exception("mixing the audio failed")
        tick += 1


def mix_room(
    members: Mapping[str, Participant],
    muted: set[str],
    playbacks: Mapping[str, Playback],
    taps: Iterable[McuTap],
    pts: int,
) -> dict[str, Samples | None]:
    """One 20 ms tick: each member's (and playback's) next audio taken, mixed, handed out; the voices taken (by
    participant id, or PLAYBACK_VOICE + play id; None: silent or muted)."""
    taps = list(taps)
    if not members and not taps:
        return {}
    voices = {pid: p.audio_in.take() for pid, p in members.items() if p.audio_in is not None}
    for pid in muted & voices.keys():
        voices[pid] = None  # taken all the same, so that unmuting does not play what was said meanwhile
    for play_id, playback in playbacks.items():
        if playback.audio_in is not None:
            voices[PLAYBACK_VOICE + play_id] = playback.audio_in.take()
    listeners = [pid for pid, p in members.items() if p.audio_out is not None]
    full, outputs = mix_minus(voices, listeners)
    for pid in listeners:
        track = members[pid].audio_out
        assert track is not None
        track.offer(outputs[pid])
    for tap in taps:
        tap.offer_audio(full, pts)
    return voices
