"""One participant's or one playback's own media for a reader outside the room (a forward of that source): what
the room gets anyway, handed on, so that a feed adds no decode and no encode to the room.

- A participant's video: its VP8 frames as its browser encoded them, taken where the SFU shortcut takes them
  (forward.py: before aiortc decodes them). Whether the participant is decoded stays the composer's business.
- A participant's audio: its own voice (not the mix), 20 ms at a time as the mixer takes it — decoded for the
  mix anyway; silence while it is muted or sends none.
- A playback: its decoded pictures as its thread shows them in the room, and its sound as the mixer takes it
  (silence when it plays without audio).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping

import numpy as np
from av import Packet, VideoFrame

from mediaplane.kit.mcu.audio import FRAME_SAMPLES, Samples, audio_frame
from mediaplane.kit.mcu.participant import Participant
from mediaplane.kit.mcu.picture import VIDEO_TIME_BASE
from mediaplane.kit.mcu.reader import Item, Reader
from mediaplane.kit.mcu.source import PLAYBACK_VOICE, Playback

__all__ = ["FEED_KINDS", "FeedHub", "McuFeed"]

FEED_KINDS = ("audio", "video")
FEED_BACKLOG = 500
"""Items (frames and 20 ms of audio, about 5 s) a slow reader may fall behind before items are dropped."""
SILENCE: Samples = np.zeros(FRAME_SAMPLES, dtype=np.int16)

Source = Participant | Playback


class McuFeed(Reader):
    """An async iterator of one source's media in the order the room gets it. It ends when closed: by the reader,
    or by the room when the source goes (the participant leaves or reconnects, the playback ends) or it closes.

    - ``av.Packet``: a participant's video, VP8 as its browser sent it, from a keyframe on; pts in 1/90000 from
      the start of its stream. For a reader that only packetizes.
    - ``av.VideoFrame``: a playback's decoded picture, for the reader to encode; pts in 1/90000 of the room's
      clock. The room's composer reads the same frame: never write its planes.
    - ``av.AudioFrame``: 20 ms of the source's own sound, s16 stereo 48 kHz, pts in 1/48000 from the feed's start.

    :meth:`want_keyframe` asks the participant for a keyframe (for a reader's picture loss).

        async with room.source_tap("user-1", ["video"]) as feed:
            async for item in feed:
                ...
    """

    def __init__(
        self,
        source: Source,
        kinds: Collection[str],
        want_keyframe: Callable[[], None] | None,
        on_close: Callable[[McuFeed], None],
    ) -> None:
        super().__init__(on_close)
        self.source = source
        self.kinds = frozenset(kinds)
        self._want_keyframe = want_keyframe
        self._waiting_keyframe = True
        self._last_picture: VideoFrame | None = None
        self._audio_pts = 0
        if "video" in self.kinds:
            self.want_keyframe()

    @property
    def voice(self) -> str:
        """The source's key among the mixer's voices."""
        return self.source.id if isinstance(self.source, Participant) else PLAYBACK_VOICE + self.source.id

    def want_keyframe(self) -> None:
        if self._want_keyframe is not None:
            self._want_keyframe()

    # -- what the room offers (on the event loop)

    def offer_packet(self, data: bytes, pts: int, keyframe: bool) -> None:
        if "video" not in self.kinds or self.closed:
            return
        if self._waiting_keyframe:
            if not keyframe:
                return
            self._waiting_keyframe = False
        if self._queue.qsize() >= FEED_BACKLOG:
            self.dropped += 1
            self._waiting_keyframe = True  # what follows a dropped frame cannot be decoded
            self.want_keyframe()
            return
        packet = Packet(data)
        packet.pts, packet.time_base, packet.is_keyframe = pts, VIDEO_TIME_BASE, keyframe
        self._queue.put_nowait(packet)

    def offer_picture(self, frame: VideoFrame | None, pts: int) -> None:
        """A playback's latest picture, handed on once; `pts` (1/90000, the room's clock) when it is new."""
        if "video" not in self.kinds or self.closed or frame is None or frame is self._last_picture:
            return
        self._last_picture = frame
        # The file's own pts start again on every loop and differ per file: the room's clock never goes back.
        # Every feed of the playback sees a new picture on the same tick, so they all stamp it alike.
        frame.pts, frame.time_base = pts, VIDEO_TIME_BASE
        self._put(frame)

    def offer_audio(self, samples: Samples | None) -> None:
        if "audio" not in self.kinds or self.closed:
            return
        self._put(audio_frame(SILENCE if samples is None else samples, self._audio_pts))
        self._audio_pts += FRAME_SAMPLES

    def _put(self, item: Item) -> None:
        if self._queue.qsize() >= FEED_BACKLOG:
            self.dropped += 1
        else:
            self._queue.put_nowait(item)


class FeedHub:
    """A room's open feeds; the room hands it what it gets, on the event loop."""

    def __init__(self) -> None:
        self.feeds: list[McuFeed] = []

    def open(self, source: Source, kinds: Collection[str], want_keyframe: Callable[[], None] | None) -> McuFeed:
        if not kinds or any(k not in FEED_KINDS for k in kinds):
            raise ValueError(f"a feed's kinds are some of {FEED_KINDS}, not {list(kinds)}")
        feed = McuFeed(source, kinds, want_keyframe, self.feeds.remove)
        self.feeds.append(feed)
        return feed

    def video(self, source: Participant, data: bytes, pts: int, keyframe: bool) -> None:
        """A participant's encoded frame, as it came."""
        for feed in self.feeds:
            if feed.source is source:
                feed.offer_packet(data, pts, keyframe)

    def tick(
        self,
        members: Mapping[str, Participant],
        playbacks: Mapping[str, Playback],
        voices: Mapping[str, Samples | None],
        pts: int,
    ) -> None:
        """Every 20 ms, after the mix (`pts` in 1/48000 of the room's clock): ends the feeds whose source went,
        gives the others their sound and a playback's new picture."""
        for feed in list(self.feeds):
            source = feed.source
            found: Source | None = (
                members.get(source.id) if isinstance(source, Participant) else playbacks.get(source.id)
            )
            if found is not source:
                feed.close()
                continue
            feed.offer_audio(voices.get(feed.voice))
            if isinstance(source, Playback):
                feed.offer_picture(source.latest, pts * 90000 // 48000)

    def close(self) -> None:
        for feed in list(self.feeds):
            feed.close()
