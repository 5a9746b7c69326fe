"""The reading half of a tap or a feed: an async iterator over what the room queued for one reader, which ends
when the reader or the room closes it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

from av import AudioFrame, Packet, VideoFrame

__all__ = ["Item", "Reader"]

Item = Packet | VideoFrame | AudioFrame


class Reader:
    """``async for item in reader`` until it is closed (``None`` on the queue is the end); ``ready()`` takes what
    piled up without waiting. `on_close` tells the room to stop offering."""

    def __init__(self, on_close: Callable[[Any], None]) -> None:
        self._queue: asyncio.Queue[Item | None] = asyncio.Queue()
        self._on_close = on_close
        self.closed = False
        self.dropped = 0

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._queue.put_nowait(None)
            self._on_close(self)

    def ready(self) -> list[Item]:
        """What is queued now, without waiting (after an ``anext``: a reader takes what piled up in one go)."""
        items: list[Item] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if item is None:
                self._queue.put_nowait(None)  # the end: the next ``anext`` sees it
                break
            items.append(item)
        return items

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Item:
        if self.closed and self._queue.empty():
            raise StopAsyncIteration
        item = await self._queue.get()
        if item is None:
            raise StopAsyncIteration
        return item

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
