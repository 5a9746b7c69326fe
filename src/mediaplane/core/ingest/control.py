"""Asks the process running the ingest to re-read a live session's outputs, to drop its publisher, or to
write its HLS preview for a while.

Calls go over the event bus after the caller's transaction commits, so the ingest reads what was written;
a session that is not live anywhere ignores them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.kit.db.commit import on_commit
from mediaplane.kit.events import EventBus

log = logging.getLogger(__name__)
CHANNEL = "ingest.control"
Action = Literal["refresh", "drop", "preview"]


class IngestControl:
    def __init__(self, events: EventBus) -> None:
        self.events = events
        self._sending: set[asyncio.Task[None]] = set()

    async def send(self, app: str, key: str, action: Action, **extra: object) -> None:
        await self.events.publish(CHANNEL, {"action": action, "app": app, "key": key, **extra})

    def after_commit(self, session: AsyncSession, app: str, key: str, action: Action) -> None:
        """Sends once `session` commits (nothing on rollback)."""

        def fire() -> None:
            task = asyncio.get_running_loop().create_task(self._send_logged(app, key, action))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

        on_commit(session, fire)

    async def refresh(self, session: AsyncSession, app: str, key: str) -> None:
        """The outputs of the live session on `key` changed: the ingest reads them again."""
        self.after_commit(session, app, key, "refresh")

    async def drop(self, session: AsyncSession, app: str, key: str) -> None:
        """The publisher on `key` must go (key changed, stream deactivated or deleted)."""
        self.after_commit(session, app, key, "drop")

    async def _send_logged(self, app: str, key: str, action: Action) -> None:
        try:
            await self.send(app, key, action)
        except Exception:  # the bus is best effort; the heartbeat re-checks every session anyway
            log.warning("could not send ingest %s for %s/%s", action, app, key, exc_info=True)
