"""A tenant's users, as the console's Users page and `mediaplane users` manage them: add, set a password, remove.

Rules shared by both: a username is what sign-in can match (printable, no surrounding spaces, at most
MAX_USERNAME); a password is as long as a password change asks; a tenant keeps at least one user.
"""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.console.auth import MAX_PASSWORD, MAX_USERNAME, MIN_PASSWORD
from mediaplane.console.repository import SessionRepository, TenantUserRepository
from mediaplane.core.tenant.models import User
from mediaplane.core.tenant.repository import UserRepository
from mediaplane.kit.errors import BadRequest, Conflict, NotFound
from mediaplane.kit.security import hash_password


def username_error(username: str) -> str | None:
    if not username:
        return "Enter a username."
    if len(username) > MAX_USERNAME or not username.isprintable() or username != username.strip():
        return f"Use at most {MAX_USERNAME} printable characters, without spaces at either end."
    return None


def password_error(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD or "\x00" in password:
        return f"Use at most {MAX_PASSWORD} characters, and no NUL character."
    return None


class UserAdmin:
    async def find(self, session: AsyncSession, tenant_id: str, username: str) -> User:
        user = (
            await UserRepository(session).get_by_name(tenant_id, username) if username_error(username) is None else None
        )
        if user is None:
            raise NotFound(f"There is no user {username!r} in tenant {tenant_id}.")
        return user

    async def add(self, session: AsyncSession, tenant_id: str, username: str, password: str) -> User:
        """Raises BadRequest for a bad username or password, Conflict when the name is taken."""
        error = username_error(username) or password_error(password)
        if error:
            raise BadRequest(error)
        users = UserRepository(session)
        if await users.get_by_name(tenant_id, username) is not None:
            raise Conflict(f"There is already a user {username!r} in this tenant.")
        password_hash = await asyncio.to_thread(hash_password, password)
        return await users.create(User(tenant_id=tenant_id, username=username, password_hash=password_hash))

    async def set_password(self, session: AsyncSession, user: User, password: str, *, keep: str | None = None) -> None:
        """Sets the password and signs out the user's sessions (but `keep`, a session's hashed id)."""
        error = password_error(password)
        if error:
            raise BadRequest(error)
        user.password_hash = await asyncio.to_thread(hash_password, password)
        await SessionRepository(session).delete_of_user(user.id, keep=keep)
        await session.flush()

    async def remove(self, session: AsyncSession, user: User) -> None:
        """Removes the user with their sessions and PATs (the database cascades); never the tenant's last user,
        even when two removals run at once (the tenant is locked, and the delete counts the others itself)."""
        users = TenantUserRepository(session)
        await users.lock_tenant(user.tenant_id)
        if not await users.delete_unless_last(user):
            raise BadRequest("This is the tenant's last user, so it cannot be removed.")
        session.expunge(user)


user_admin = UserAdmin()
