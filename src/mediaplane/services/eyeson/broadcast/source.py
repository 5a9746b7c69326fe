"""The room as a relay's source: its composed pictures and full mix from a picture tap, encoded off the event
loop, read by :class:`~mediaplane.kit.rtmp.Relay` as it reads a publisher's connection (``read_batch`` until
it returns nothing, then ``close``).

The encoder runs in a thread of its own at a lower priority than the room's (``NICENESS``). A broadcast stays
live rather than late: a picture that reaches the encoder more than ``max_lag`` seconds
after the room composed it is skipped (counted in ``dropped``), so an encoder that cannot keep up lowers the
frame rate instead of building up delay. Audio is never skipped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeGuard

from av import AudioFrame, VideoFrame

from mediaplane.kit.mcu import McuTap
from mediaplane.kit.rtmp import Message, RtmpUrl
from mediaplane.kit.threads import lower_priority
from mediaplane.services.eyeson.broadcast.encoder import FlvEncoder

__all__ = ["EncodedSource"]

log = logging.getLogger(__name__)

MAX_LAG: Final = 1.0
NICENESS: Final = 5
"""How much lower the encoder thread (and the encoder's own threads, which inherit it) runs than the room's:
on a machine short of CPU the people in the room keep their picture, and the broadcast drops pictures."""


class EncodedSource:
    """See the module docs. It takes over ``tap`` and ``encoder`` and closes both."""

    def __init__(self, tap: McuTap, encoder: FlvEncoder, *, name: str = "room", max_lag: float = MAX_LAG) -> None:
        self.url = RtmpUrl("rtmp", "mcu", 0, "eyeson", name)  # what the relay's logs call the source
        self.end_reason: str | None = None
        self.max_lag = max_lag
        self.dropped = 0
        self.encoded = 0
        self._tap, self._encoder = tap, encoder
        self._executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="eyeson-broadcast", initializer=lower_priority, initargs=(NICENESS,)
        )
        self._clock: float | None = None  # time.monotonic() minus the room's time of the first picture
        self._aborted = False
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    async def read_batch(self) -> list[Message]:
        """The next messages, [] once the room or this source ended.

        What piled up in the tap while the last batch was encoding goes to the encoder thread in one hand-over:
        one round trip per batch rather than one per picture and per 20 ms of audio, which on a busy event
        loop was what made the broadcast fall behind."""
        loop = asyncio.get_running_loop()
        while not self._aborted:
            first = await anext(self._tap, None)
            if first is None or self._aborted:
                self.end_reason = self.end_reason or "the room closed"
                return []
            batch = [item for item in [first, *self._tap.ready()] if self._wanted(item)]
            if not batch:
                continue
            try:
                messages = await loop.run_in_executor(self._executor, self._encode, batch)
            except Exception as exc:  # an encoder failure ends the broadcast, recorded as its error
                log.exception("eyeson broadcast: encoding failed")
                self.end_reason = f"encoding failed: {exc}"
                self.abort()
                return []
            if messages:
                return messages
        return []

    def _wanted(self, item: object) -> TypeGuard[VideoFrame | AudioFrame]:
        if isinstance(item, VideoFrame):
            if self._late(item):
                self.dropped += 1
                return False
            return True
        return isinstance(item, AudioFrame)  # a packet tap's packets: not asked for

    def _encode(self, batch: list[VideoFrame | AudioFrame]) -> list[Message]:
        """In the encoder thread."""
        messages: list[Message] = []
        for item in batch:
            messages += self._encoder.encode(item)
            self.encoded += isinstance(item, VideoFrame)
        return messages

    def _late(self, frame: VideoFrame) -> bool:
        made_at = (frame.pts or 0) / 90000
        now = time.monotonic()
        if self._clock is None:
            self._clock = now - made_at
        return now - (self._clock + made_at) > self.max_lag

    def abort(self) -> None:
        """End the stream now: ``read_batch`` returns [] from here on."""
        self.end_reason = self.end_reason or "stopped"
        self._aborted = True
        self._tap.close()

    async def close(self) -> None:
        """End the stream and release the encoder (in its thread, after any encode in progress)."""
        if self._closed:
            return
        self.abort()
        self._closed = True
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._executor, self._encoder.close)
        except Exception:
            log.exception("eyeson broadcast: closing the encoder failed")
        await asyncio.to_thread(self._executor.shutdown, wait=True)
