"""Audio: every peer hears the others' tones and never its own (mix-minus)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from tests.fixtures.webrtc import Rooms, tone_level

from mediaplane.kit.mcu.audio import FRAME_SAMPLES, AudioInput, mix_minus

pytestmark = pytest.mark.timeout(30)

TONES = {"a": 500.0, "b": 800.0, "c": 1300.0}


async def test_each_peer_hears_the_others_but_not_itself(rooms: Rooms) -> None:
    room = await rooms.room(fps=5)
    peers = {pid: await rooms.peer(None, hz).join(room, pid, pid) for pid, hz in TONES.items()}
    await asyncio.sleep(1.8)
    for pid, peer in peers.items():
        heard = peer.heard(1.0)
        assert len(heard) == 48000, f"{pid} received {len(heard)} samples"
        levels = {other: tone_level(heard, hz) for other, hz in TONES.items()}
        others = [levels[o] for o in TONES if o != pid]
        assert min(others) > 20 * levels[pid], f"{pid} hears {levels}"
        assert min(others) > 1000, f"{pid} hears {levels}"  # a full-level tone (0.2 of full scale) is ~1640
    assert all(p["receiving_audio"] for p in room.participants())


async def test_alone_in_the_room_is_silence(rooms: Rooms) -> None:
    room = await rooms.room(fps=5)
    peer = await rooms.peer(None, 500.0).join(room, "a", "a")
    await asyncio.sleep(1.2)
    heard = peer.heard(0.5)
    assert len(heard) == 24000
    assert np.abs(heard.astype(np.int32)).max() < 200


def test_mix_minus_clips_instead_of_wrapping() -> None:
    loud = np.full(FRAME_SAMPLES, 30000, dtype=np.int16)
    full, outputs = mix_minus({"a": loud, "b": loud, "c": None}, ["a", "b", "c", "d"])
    assert full.max() == 32767
    assert outputs["a"].tolist() == loud.tolist()
    assert outputs["c"] is full and outputs["d"] is full


def test_an_input_waits_for_a_little_buffer() -> None:
    from av import AudioFrame

    voice = AudioInput()
    frame = AudioFrame.from_ndarray(np.ones((1, FRAME_SAMPLES), dtype=np.int16), format="s16", layout="mono")
    frame.sample_rate = 48000
    voice.push(frame)
    assert voice.take() is None  # 20 ms buffered, 40 ms needed before mixing starts
    voice.push(frame)
    assert voice.take() is not None
    assert voice.take() is not None
    assert voice.take() is None  # ran dry: it refills before it plays again
