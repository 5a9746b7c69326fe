"""The forwards running in this process, by meeting and forward id; one that ends by itself (its source left, its
playback ended, the WHIP peer went) is stopped and forgotten here."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import httpx

from mediaplane.core.runtime import Runtime
from mediaplane.kit.mcu import McuRoom
from mediaplane.services.eyeson.forward.whip import Forward, Media

__all__ = ["Forwards", "forwards"]

log = logging.getLogger(__name__)
EXTRAS_KEY = "eyeson.forwards"
WHIP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


class Forwards:
    def __init__(self) -> None:
        self.running: dict[tuple[str, str], Forward] = {}
        self._client = httpx.AsyncClient(timeout=WHIP_TIMEOUT, follow_redirects=False)
        self._ending: set[asyncio.Task[None]] = set()

    def has(self, meeting_id: str, forward_id: str) -> bool:
        forward = self.running.get((meeting_id, forward_id))
        return forward is not None and forward.running

    async def start(self, room: McuRoom, meeting_id: str, forward_id: str, url: str, kinds: tuple[str, ...]) -> None:
        """Sends the room's picture (its shared encode) and full mix to the WHIP endpoint at `url`."""
        await self.send(meeting_id, forward_id, url, kinds, room.tap())

    async def send(
        self,
        meeting_id: str,
        forward_id: str,
        url: str,
        kinds: tuple[str, ...],
        media: Media,
        ask_keyframe: Callable[[], None] | None = None,
    ) -> None:
        """Sends `media` (closed here when the forward fails to start) to the WHIP endpoint at `url`; ForwardError
        when the endpoint cannot be reached or refuses. A forward of the same id is replaced."""
        old = self.running.pop((meeting_id, forward_id), None)
        if old is not None:
            await old.stop(self._client)
        forward = Forward(forward_id, meeting_id, url, kinds, media, ask_keyframe)
        try:
            await forward.start(self._client, self._ended)
        except BaseException:
            await forward.stop(self._client)
            raise
        self.running[(meeting_id, forward_id)] = forward

    def _ended(self, forward: Forward) -> None:
        key = (forward.meeting_id, forward.forward_id)
        if self.running.get(key) is not forward:
            return  # stopped already
        del self.running[key]
        log.info("eyeson: forward %s of meeting %s ended with its source", forward.forward_id, forward.meeting_id)
        task = asyncio.ensure_future(forward.stop(self._client))
        self._ending.add(task)
        task.add_done_callback(self._ending.discard)

    async def stop(self, meeting_id: str, forward_id: str) -> bool:
        forward = self.running.pop((meeting_id, forward_id), None)
        if forward is None:
            return False
        await forward.stop(self._client)
        return True

    async def stop_meeting(self, meeting_id: str) -> None:
        for key in [k for k in self.running if k[0] == meeting_id]:
            await self.stop(*key)

    async def close(self) -> None:
        for key in list(self.running):
            await self.stop(*key)
        await asyncio.gather(*self._ending, return_exceptions=True)
        await self._client.aclose()


def forwards(runtime: Runtime) -> Forwards:
    made = runtime.extras.get(EXTRAS_KEY)
    if not isinstance(made, Forwards):
        made = runtime.extras[EXTRAS_KEY] = Forwards()
    return made
