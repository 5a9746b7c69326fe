"""Audio: each participant's voice resampled to 48 kHz mono, mixed every 20 ms; everyone hears all but themselves."""

from __future__ import annotations

from collections.abc import Mapping
from fractions import Fraction

import numpy as np
import numpy.typing as npt
from av import AudioFrame, AudioResampler

__all__ = ["FRAME_SAMPLES", "SAMPLE_RATE", "AudioInput", "audio_frame", "mix_minus"]

SAMPLE_RATE = 48000
FRAME_SAMPLES = 960  # 20 ms, one Opus frame
AUDIO_TIME_BASE = Fraction(1, SAMPLE_RATE)
PRIME_FRAMES = 2
"""Frames buffered before a voice is mixed (again): 40 ms of slack for packets that arrive in bursts."""
MAX_FRAMES = 10
"""At most 200 ms buffered; older samples are dropped so a late stream does not add delay for good."""

Samples = npt.NDArray[np.int16]


class AudioInput:
    """One participant's decoded audio, as 20 ms chunks of s16 mono at 48 kHz."""

    def __init__(self) -> None:
        self._resampler = AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
        self._buffer = bytearray()
        self._primed = False

    def push(self, frame: AudioFrame) -> None:
        for out in self._resampler.resample(frame):
            self._buffer += bytes(out.planes[0])[: out.samples * 2]
        excess = len(self._buffer) - MAX_FRAMES * FRAME_SAMPLES * 2
        if excess > 0:
            del self._buffer[:excess]

    def take(self) -> Samples | None:
        """The next 20 ms, or None while (re)filling the buffer."""
        size = FRAME_SAMPLES * 2
        if not self._primed:
            if len(self._buffer) < PRIME_FRAMES * size:
                return None
            self._primed = True
        if len(self._buffer) < size:
            self._primed = False
            return None
        chunk = np.frombuffer(bytes(self._buffer[:size]), dtype=np.int16)
        del self._buffer[:size]
        return chunk


def mix_minus(voices: Mapping[str, Samples | None], listeners: list[str]) -> tuple[Samples, dict[str, Samples]]:
    """The full mix, and for each listener the mix without their own voice (clipped to 16 bits)."""
    total = np.zeros(FRAME_SAMPLES, dtype=np.int32)
    for voice in voices.values():
        if voice is not None:
            total += voice
    full = _clip(total)
    outputs = {}
    for listener in listeners:
        own = voices.get(listener)
        outputs[listener] = full if own is None else _clip(total - own)
    return full, outputs


def _clip(samples: npt.NDArray[np.int32]) -> Samples:
    return np.clip(samples, -32768, 32767).astype(np.int16)


def audio_frame(samples: Samples, pts: int) -> AudioFrame:
    """A stereo frame of mono samples: aiortc's Opus encoder takes stereo as is, and up-mixing mono it would
    lower the level by 3 dB."""
    frame = AudioFrame.from_ndarray(np.repeat(samples, 2).reshape(1, -1), format="s16", layout="stereo")
    frame.sample_rate = SAMPLE_RATE
    frame.pts = pts
    frame.time_base = AUDIO_TIME_BASE
    return frame
