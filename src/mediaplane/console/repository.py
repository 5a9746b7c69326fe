from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, select

from mediaplane.console.models import ConsoleSession, SignInFailure
from mediaplane.kit.db import RepositoryBase


class SessionRepository(RepositoryBase[ConsoleSession]):
    model = ConsoleSession

    async def get(self, session_hash: str) -> ConsoleSession | None:
        return await self.session.get(ConsoleSession, session_hash)

    async def delete_by_id(self, session_hash: str) -> None:
        await self.session.execute(delete(ConsoleSession).where(ConsoleSession.id == session_hash))

    async def delete_of_user(self, user_id: str, *, keep: str | None = None) -> None:
        statement = delete(ConsoleSession).where(ConsoleSession.user_id == user_id)
        if keep is not None:
            statement = statement.where(ConsoleSession.id != keep)
        await self.session.execute(statement)

    async def delete_expired(self, now: datetime, idle_since: datetime) -> None:
        await self.session.execute(
            delete(ConsoleSession).where(
                (ConsoleSession.expires_at <= now) | (ConsoleSession.last_seen_at <= idle_since)
            )
        )


class SignInFailureRepository(RepositoryBase[SignInFailure]):
    model = SignInFailure

    async def since(self, tenant_id: str, username: str, start: datetime) -> tuple[int, datetime | None]:
        """How many failures of this user since `start`, and the oldest of them."""
        result = await self.session.execute(
            select(func.count(), func.min(SignInFailure.failed_at)).where(
                SignInFailure.tenant_id == tenant_id,
                SignInFailure.username == username,
                SignInFailure.failed_at > start,
            )
        )
        count, oldest = result.one()
        if isinstance(oldest, str):  # SQLite's MIN() loses the column type
            oldest = datetime.fromisoformat(oldest)
        if oldest is not None and oldest.tzinfo is None:
            oldest = oldest.replace(tzinfo=UTC)
        return int(count), oldest

    async def clear(self, tenant_id: str, username: str, *, before: datetime | None = None) -> None:
        statement = delete(SignInFailure).where(
            SignInFailure.tenant_id == tenant_id, SignInFailure.username == username
        )
        if before is not None:
            statement = statement.where(SignInFailure.failed_at <= before)
        await self.session.execute(statement)
