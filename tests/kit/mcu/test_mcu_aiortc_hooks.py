"""The aiortc internals the room builds on, checked against the installed aiortc so that an upgrade which
renames them fails here, by name, instead of silently turning the SFU shortcut and keyframe requests off.

- the receiver hands each reassembled frame to its decoder thread through `__decoder_queue` (the SFU tap,
  kit/mcu/forward.py), starts that thread late (`__decoder_thread` is None until then), keeps its RTX ssrcs in
  `__rtx_ssrc`, and can send a PLI (`_send_rtcp_pli`);
- the sender answers a receiver's PLI/FIR by calling its own `_send_keyframe` (kit/mcu/room.py replaces it).
"""

from __future__ import annotations

import inspect
import queue

from aiortc import RTCPeerConnection, RTCRtpReceiver, RTCRtpSender

from mediaplane.kit.mcu.forward import DECODER_QUEUE, DECODER_THREAD, RTX_SSRCS, FrameGate, tap_receiver


async def test_the_receiver_internals_the_sfu_tap_replaces_are_there() -> None:
    pc = RTCPeerConnection()
    try:
        receiver = pc.addTransceiver("video").receiver
        assert isinstance(getattr(receiver, DECODER_QUEUE), queue.Queue)
        assert getattr(receiver, DECODER_THREAD) is None
        assert isinstance(getattr(receiver, RTX_SSRCS), dict)
        assert inspect.iscoroutinefunction(receiver._send_rtcp_pli)
        # Frames reach the decoder through that queue, so the gate sees every one.
        assert "__decoder_queue.put(" in inspect.getsource(RTCRtpReceiver)
        gate = tap_receiver(receiver, lambda data, pts, keyframe: None)
        assert isinstance(gate, FrameGate) and getattr(receiver, DECODER_QUEUE) is gate
    finally:
        await pc.close()


async def test_the_sender_answers_picture_loss_through_send_keyframe() -> None:
    pc = RTCPeerConnection()
    try:
        sender = pc.addTransceiver("video").sender
        assert callable(sender._send_keyframe)
        assert "self._send_keyframe()" in inspect.getsource(RTCRtpSender)
    finally:
        await pc.close()
