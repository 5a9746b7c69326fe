"""Run something once the session's outermost transaction commits; forget it on rollback."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction

_KEY = "mediaplane.on_commit"


def on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """`callback` runs (synchronously, in the committing task) after the next real commit of `session`."""
    sync = session.sync_session
    pending: list[Callable[[], None]] | None = sync.info.get(_KEY)
    if pending is None:
        pending = []
        sync.info[_KEY] = pending
        _listen(sync, pending)
    pending.append(callback)


def _listen(sync: Session, pending: list[Callable[[], None]]) -> None:
    def after_commit(committed: Session) -> None:
        if committed.in_nested_transaction():
            return  # a savepoint was released; the real commit comes later
        callbacks = pending[:]
        pending.clear()
        for callback in callbacks:
            callback()

    def after_transaction_end(_: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            pending.clear()

    event.listen(sync, "after_commit", after_commit)
    event.listen(sync, "after_transaction_end", after_transaction_end)
