"""Many played streams read on one timer.

A relay in Python spends most of its time being woken up: a task, a future and a system call for
every packet of every stream. The poller instead reads every stream of the event loop on one shared
tick, straight from the sockets, and hands each read's messages to its consumer in one call; all the
consumers' writes of that tick follow back to back. ``interval`` seconds of latency buy that.

    await poller_for(0.1).follow(connection, deliver)   # returns when the stream ends
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable

from mediaplane.kit.rtmp.chunks import Message
from mediaplane.kit.rtmp.client import RtmpConnection

__all__ = ["Deliver", "Poller", "poller_for"]

Deliver = Callable[[list[Message]], None]

_pollers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[float, Poller]] = weakref.WeakKeyDictionary()


def poller_for(interval: float) -> Poller:
    """The running event loop's poller for ``interval`` seconds (made on first use)."""
    loop = asyncio.get_running_loop()
    per_loop = _pollers.setdefault(loop, {})
    poller = per_loop.get(interval)
    if poller is None:
        poller = per_loop[interval] = Poller(interval)
    return poller


class Poller:
    """Reads every followed connection each ``interval`` seconds, on ticks aligned to the loop's clock."""

    def __init__(self, interval: float) -> None:
        if interval <= 0:
            raise ValueError("a poller needs an interval above 0")
        self.interval = interval
        self._followed: dict[RtmpConnection, tuple[Deliver, asyncio.Future[None]]] = {}
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._followed)

    async def follow(self, connection: RtmpConnection, deliver: Deliver) -> None:
        """Hand ``deliver`` every batch of media the playing ``connection`` receives, until the stream
        ends (or the connection is closed); raises what reading or ``deliver`` raised."""
        connection.detach_reading()
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._followed[connection] = (deliver, done)
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._run(), name=f"rtmp poller {self.interval:g}s")
        try:
            await done
        finally:
            self._followed.pop(connection, None)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        interval = self.interval
        while self._followed:
            await asyncio.sleep(interval - loop.time() % interval)
            for connection, (deliver, done) in list(self._followed.items()):
                if not done.done():
                    _read(connection, deliver, done)


def _read(connection: RtmpConnection, deliver: Deliver, done: asyncio.Future[None]) -> None:
    try:
        flowing = connection.poll()
        batch = connection.take_media()
        if batch:
            deliver(batch)
    except Exception as exc:  # the follower's to handle; the other streams go on
        done.set_exception(exc)
        return
    if not flowing:
        done.set_result(None)
