"""One destination connection's share of a relayed stream.

While the destination keeps up, the messages of each read from the source are stamped on the
connection's own clock, cut into chunks and written to its socket in one go, from the source's task:
no task switch and one system call per read and destination, which is most of what a relay in Python
would otherwise spend. When the socket takes no more (its
transport is over the high-water mark), messages wait in a queue bounded by bytes that the sink's task
writes once the socket drains; a destination that falls further behind skips to the next key frame.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from typing import Final

from mediaplane.kit.rtmp.chunks import Message, chunk_body, chunk_header, encode_message
from mediaplane.kit.rtmp.errors import RtmpError
from mediaplane.kit.rtmp.media import Kind
from mediaplane.kit.rtmp.messages import AUDIO, DATA_AMF0, VIDEO, csid_for
from mediaplane.kit.rtmp.runner import SinkRunner

__all__ = ["ALWAYS_SENT", "FRAMES", "Encoded", "Item", "Output", "Timeline", "item"]

ALWAYS_SENT: Final = frozenset({Kind.DATA, Kind.VIDEO_CONFIG, Kind.AUDIO_CONFIG, Kind.VIDEO_OTHER, Kind.OTHER})
"""Headers and metadata: never dropped, never counted against the queue's bound."""
FRAMES: Final = frozenset({Kind.VIDEO_KEY, Kind.VIDEO})
MEDIA: Final = frozenset({Kind.VIDEO_KEY, Kind.VIDEO, Kind.AUDIO})
_EXTENDED: Final = 0xFFFFFF

Item = tuple[Message, Kind, bytes]
"""A message, its kind, and its chunks after the first header (:func:`~mediaplane.kit.rtmp.chunks.chunk_body`)."""
Encoded = tuple[tuple[int | None, int, int, int], list[Item], bytes, int, int, int, int]
"""One destination's write: its clock and items before, the bytes, frames and media counts, its clock after."""


def item(message: Message, kind: Kind, chunk_size: int) -> Item:
    """``message`` cut into chunks once, for every destination."""
    type_id = message.type_id
    return message, kind, chunk_body(message.payload, chunk_size, _CSID.get(type_id) or media_csid(type_id))


def media_csid(type_id: int) -> int:
    """The chunk stream a destination connection sends messages of this type on."""
    return csid_for(Message(type_id, 1, 0, b""))


_CSID: Final = {t: media_csid(t) for t in (AUDIO, VIDEO, DATA_AMF0)}


class Timeline:
    """A destination connection's clock: starts at 0 with its first frame, never goes back per track."""

    __slots__ = ("base", "last")

    def __init__(self) -> None:
        self.base: int | None = None
        self.last = {AUDIO: 0, VIDEO: 0}

    def stamp(self, message: Message, kind: Kind) -> int:
        if self.base is None:
            if kind in ALWAYS_SENT:
                return 0  # headers before the first frame
            self.base = message.timestamp
        offset = (message.timestamp - self.base) & 0xFFFFFFFF
        if offset >= 0x80000000:  # a little before the first frame (audio interleaved with video)
            offset = 0
        track = message.type_id
        if track in self.last:
            if offset < self.last[track]:
                offset = self.last[track]
            self.last[track] = offset
        return offset


class Output:
    """Messages on their way to one destination connection; see the module docs.

    ``write`` hands bytes to the connection, ``congested`` says whether it holds more than its socket
    takes. ``start`` (headers, the cached GOP) goes out first; with ``wait_for_key`` nothing but
    headers goes out until a key frame.
    """

    __slots__ = (
        "batch",
        "behind",
        "blocked",
        "chunk_size",
        "congested",
        "error",
        "event",
        "limit",
        "owner",
        "queue",
        "queued",
        "skipping",
        "stream_id",
        "stream_id_bytes",
        "timeline",
        "video_started",
        "write",
    )

    def __init__(
        self,
        owner: SinkRunner,
        *,
        write: Callable[[bytes], None],
        congested: Callable[[], bool],
        stream_id: int,
        chunk_size: int,
        limit: int,
        start: Iterable[Item] = (),
        wait_for_key: bool = False,
    ) -> None:
        self.owner = owner  # counts bytes, frames and drops, and goes live
        self.write = write
        self.congested = congested
        self.stream_id = stream_id
        self.stream_id_bytes = stream_id.to_bytes(4, "little")
        self.chunk_size = chunk_size
        self.limit = limit
        self.timeline = Timeline()
        self.queue: deque[Item] = deque(start)
        self.batch: list[Item] = []  # for the socket at the next commit()
        self.queued = 0  # media bytes in the queue; the start does not count
        self.blocked = False  # the socket is full: queue until the sink's task has drained it
        self.error: Exception | None = None
        self.skipping = wait_for_key
        self.behind = False  # skipping because this sink fell behind (counted), not waiting to start
        self.video_started = any(kind == Kind.VIDEO_KEY for _, kind, _ in self.queue)
        self.event = asyncio.Event()
        if self.queue:
            self.event.set()

    def take(self, entries: list[tuple[Item, bool]], largest: int) -> None:
        """Every message of one read from the source, each with its ``sync`` flag (see :meth:`offer`);
        ``largest``: the size of the largest payload among them."""
        plain = not (self.skipping or self.blocked or self.queue or self.error is not None)
        if plain and self.video_started and largest <= self.limit:
            self.batch.extend([entry for entry, _ in entries])  # what offer() would do with each, at once
        else:
            for entry, sync in entries:
                self.offer(entry, sync)

    def offer(self, entry: Item, sync: bool) -> None:
        """A message from the source; ``sync``: a destination may start with it (a key frame)."""
        message, kind, _ = entry
        size = 0
        if kind not in ALWAYS_SENT:
            if self.skipping:
                if not sync:
                    self.owner.dropped += self.behind
                    return
                self.skipping = self.behind = False
            elif kind == Kind.VIDEO and not self.video_started:
                return  # inter frames before this sink's first key frame decode to garbage
            size = len(message.payload)
            if self.queued + size > self.limit:
                self._fall_behind()
                if not sync:
                    self.owner.dropped += 1
                    return
                self.skipping = self.behind = False
            if kind == Kind.VIDEO_KEY:
                self.video_started = True
        if self.blocked or self.queue or self.error is not None:
            self.queue.append(entry)
            self.queued += size
            self.event.set()
        else:
            self.batch.append(entry)

    def commit(self, shared: list[Encoded] | None = None) -> None:
        """Write what :meth:`offer` took since the last commit, in one write (the source, after each read).

        ``shared`` carries what the other destinations of the same read sent: a destination whose clock
        stands where another's stood and that sends the same messages sends the same bytes."""
        if self.batch:
            batch, self.batch = self.batch, []
            self._send(batch, shared)

    def flush(self) -> None:
        """Write everything queued (the sink's task, once the socket has room)."""
        items = list(self.queue)
        self.queue.clear()
        self.queued = 0
        if items:
            self._send(items)

    def wake(self) -> None:
        self.event.set()

    def _fall_behind(self) -> None:
        """Drop the queued media and skip to the next key frame; headers and metadata stay."""
        kept = deque(item for item in self.queue if item[1] in ALWAYS_SENT)
        self.owner.dropped += len(self.queue) - len(kept)
        self.queue = kept
        self.queued = 0
        self.skipping = self.behind = True

    def _send(self, items: list[Item], shared: list[Encoded] | None = None) -> None:
        timeline = self.timeline
        start = (timeline.base, timeline.last[AUDIO], timeline.last[VIDEO], self.stream_id)
        encoded = None
        if shared is not None and timeline.base is not None:
            for candidate in shared:
                if candidate[0] == start and candidate[1] == items:  # identical items: compared by identity
                    encoded = candidate
                    break
        if encoded is None:
            encoded = (start, items, *self._encode(items))
            if shared is not None and timeline.base is not None:
                shared.append(encoded)
        else:
            timeline.last[AUDIO], timeline.last[VIDEO] = encoded[5], encoded[6]
        _, _, data, frames, media, _, _ = encoded
        try:
            self.write(data)
        except (RtmpError, OSError) as exc:  # the sink's task raises it; the source carries on
            self.error = exc
            self.event.set()
            return
        owner = self.owner
        owner.sent(len(data), frames)
        if media and owner.status != "live":
            owner.mark_live()
        if self.congested():
            self.blocked = True
            self.event.set()

    def _encode(self, items: Iterable[Item]) -> tuple[bytes, int, int, int, int]:
        """The chunks of ``items`` on this connection's clock; the video frames and media messages among
        them; the clock's audio and video positions after them."""
        parts: list[bytes] = []
        frames = media = 0
        stamp, stream_id = self.timeline.stamp, self.stream_id_bytes
        for message, kind, body in items:
            timestamp = stamp(message, kind)
            type_id = message.type_id
            csid = _CSID.get(type_id) or media_csid(type_id)
            if timestamp < _EXTENDED:
                parts.append(chunk_header(csid, timestamp, len(message.payload), type_id, stream_id))
                parts.append(body)
            else:  # continuation chunks repeat an extended timestamp: this connection's own
                stamped = Message(type_id, self.stream_id, timestamp, message.payload)
                parts.append(encode_message(stamped, self.chunk_size, csid))
            frames += kind in FRAMES
            media += kind in MEDIA
        data = parts[0] if len(parts) == 1 else b"".join(parts)
        last = self.timeline.last
        return data, frames, media, last[AUDIO], last[VIDEO]
