"""A reader of a relayed stream inside this process (an HTTP-FLV viewer, say), beside the RTMP sinks.

    watcher = Watcher(limit=4 * 1024 * 1024)
    relay.watch(watcher)                      # headers and the current GOP now, live messages from here on
    while batch := await watcher.next_batch():
        ...                                   # (message, kind) pairs, in the source's order
    relay.unwatch(watcher)

The relay hands each message to :meth:`Watcher.offer` from its source's task (no copy, no await); the
reader takes them in batches. Media waiting for a reader is bounded in bytes: a reader that falls that
far behind loses what it had not read and skips to the next key frame. Metadata and sequence headers are
always kept. The relay closes its watchers when its source ends; :meth:`next_batch` then returns what is
left, and after that an empty list.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Iterable

from mediaplane.kit.rtmp.chunks import Message
from mediaplane.kit.rtmp.fanout import ALWAYS_SENT
from mediaplane.kit.rtmp.media import Kind

__all__ = ["DEFAULT_WATCH_BYTES", "Watcher"]

DEFAULT_WATCH_BYTES = 4 * 1024 * 1024


class Watcher:
    """Messages of one relayed stream on their way to one reader in this process; see the module docs."""

    def __init__(self, limit: int = DEFAULT_WATCH_BYTES) -> None:
        self.limit = limit
        self.queue: deque[tuple[Message, Kind]] = deque()
        self.queued = 0  # media bytes waiting; headers do not count
        self.dropped = 0  # media messages lost to falling behind
        self.closed = False
        self.skipping = False  # waiting for a key frame to (re)start from
        self.video_started = False
        self._event = asyncio.Event()

    def begin(self, start: Iterable[tuple[Message, Kind]], wait_for_key: bool) -> None:
        """What the relay holds when the watcher joins: headers, then the GOP (empty: ``wait_for_key``)."""
        for message, kind in start:
            self.queue.append((message, kind))
            if kind == Kind.VIDEO_KEY:
                self.video_started = True
            if kind not in ALWAYS_SENT:
                self.queued += len(message.payload)
        self.skipping = wait_for_key and not self.video_started
        self._event.set()

    def offer(self, message: Message, kind: Kind, sync: bool) -> None:
        """A message from the source; ``sync``: a reader may start with it (a key frame)."""
        if self.closed:
            return
        if kind not in ALWAYS_SENT:
            if self.skipping:
                if not sync:
                    return
                self.skipping = False
            elif kind == Kind.VIDEO and not self.video_started:
                return  # inter frames before the first key frame decode to garbage
            size = len(message.payload)
            if self.queued + size > self.limit:
                self._fall_behind()
                if not sync:
                    return
                self.skipping = False
            if kind == Kind.VIDEO_KEY:
                self.video_started = True
            self.queued += size
        self.queue.append((message, kind))

    def wake(self) -> None:
        """The relay calls this after each read from its source."""
        if self.queue:
            self._event.set()

    def close(self) -> None:
        """No more messages: the reader gets what is queued, then the end."""
        self.closed = True
        self._event.set()

    async def next_batch(self) -> list[tuple[Message, Kind]]:
        """Everything queued, waiting for some; an empty list once closed and read to the end."""
        while not self.queue and not self.closed:
            self._event.clear()
            await self._event.wait()
        batch = list(self.queue)
        self.queue.clear()
        self.queued = 0
        return batch

    def _fall_behind(self) -> None:
        kept = deque(entry for entry in self.queue if entry[1] in ALWAYS_SENT)
        self.dropped += len(self.queue) - len(kept)
        self.queue = kept
        self.queued = 0
        self.skipping = True
