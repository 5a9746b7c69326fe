from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, select

from mediaplane.console.models import ConsoleSession, SignInFailure
from mediaplane.core.tenant.models import Tenant, User
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


class TenantUserRepository(RepositoryBase[User]):
    """Removing a tenant's users so that at least one is always left, however many removals run at once."""

    model = User

    async def lock_tenant(self, tenant_id: str) -> None:
        """Holds the tenant's row until the transaction ends (PostgreSQL), so removals in one tenant take turns.
        FOR NO KEY UPDATE: removals exclude each other, but inserts that reference the tenant (their foreign key
        checks take KEY SHARE) do not wait. SQLite has no such lock and needs none: one writer at a time, and the
        delete below counts again within its own statement."""
        await self.session.execute(select(Tenant.id).where(Tenant.id == tenant_id).with_for_update(key_share=True))

    async def delete_unless_last(self, user: User) -> bool:
        """Deletes the user (the database cascades to sessions and PATs) if another user of the tenant is left,
        counted in the same statement; False when none is."""
        others = (
            select(func.count())
            .select_from(User)
            .where(User.tenant_id == user.tenant_id, User.id != user.id)
            .scalar_subquery()
        )
        result = await self.session.execute(
            delete(User).where(User.id == user.id, others > 0).execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0))
