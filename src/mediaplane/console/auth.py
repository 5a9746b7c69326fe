"""Who is signed in: sign-in with a tenant user's password (with a lockout), sessions, password changes.

A session is a random id in an HttpOnly cookie; its row keeps the id's SHA-256 and ends after
MEDIAPLANE_CONSOLE_IDLE_TIMEOUT without a request or MEDIAPLANE_CONSOLE_SESSION_LIFETIME after sign-in, whichever
comes first. Its CSRF token is derived from
the id (HMAC with the server secret), so it needs no column and changes with the session.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.console.models import ConsoleSession, SignInFailure
from mediaplane.console.repository import SessionRepository, SignInFailureRepository
from mediaplane.core.runtime import Runtime
from mediaplane.core.tenant.models import Tenant, User
from mediaplane.core.tenant.repository import TenantRepository, UserRepository
from mediaplane.core.tenant.service import ADMIN_TENANT
from mediaplane.core.token.service import Principal
from mediaplane.kit.security import derive_key, hash_password, sha256_hex, verify_password

TOUCH_RESOLUTION = timedelta(minutes=1)  # how often last_seen_at is written
MIN_PASSWORD = 8
MAX_PASSWORD = 1024
MAX_USERNAME = 100
MAX_TENANT_ID = 63
CONSOLE_PRINCIPAL = "console"  # the pat_id of a Principal acting through the console, which has no PAT


@cache
def _decoy_hash() -> str:
    """Checked when the user is unknown or has no password, so a refusal takes as long either way."""
    return hash_password("not the password of anyone")


def _hmac(secret: str, purpose: str, value: str) -> str:
    return hmac.new(derive_key(secret, purpose), value.encode(), "sha256").hexdigest()


def csrf_token_for(runtime: Runtime, session_id: str) -> str:
    return _hmac(runtime.settings.secret, "console-csrf", session_id)


def sign_in_token_for(runtime: Runtime, nonce: str) -> str:
    """The sign-in form's CSRF token, bound to a random cookie set with the form (no session exists yet)."""
    return _hmac(runtime.settings.secret, "console-sign-in", nonce)


def same_token(given: object, expected: str) -> bool:
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def _printable(value: str) -> bool:
    return value.isprintable()


@dataclass(frozen=True)
class SignedIn:
    """A request's signed-in user."""

    session_id: str  # the cookie's value
    tenant: Tenant
    user: User
    csrf_token: str

    @property
    def principal(self) -> Principal:
        return Principal(self.tenant.id, self.user.id, CONSOLE_PRINCIPAL)

    @property
    def is_admin(self) -> bool:
        """A user of the admin tenant: sees the Tenants and System pages (the API's CurrentAdmin)."""
        return self.tenant.id == ADMIN_TENANT


class SignInRefused(Exception):
    def __init__(self, message: str, status_code: int = 401, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.retry_after = retry_after


WRONG_CREDENTIALS = "Wrong tenant, username or password."


class SessionService:
    async def open(self, session: AsyncSession, runtime: Runtime, user: User) -> str:
        """Starts a session for `user` and returns the cookie value (shown to no one else, stored hashed)."""
        now = runtime.clock.now()
        settings = runtime.settings
        repo = SessionRepository(session)
        await repo.delete_expired(now, now - settings.console_idle_timeout)
        session_id = secrets.token_urlsafe(32)
        await repo.create(
            ConsoleSession(
                id=sha256_hex(session_id),
                tenant_id=user.tenant_id,
                user_id=user.id,
                created_at=now,
                last_seen_at=now,
                expires_at=now + settings.console_session_lifetime,
            )
        )
        return session_id

    async def load(self, session: AsyncSession, runtime: Runtime, session_id: str | None) -> SignedIn | None:
        """The session's user, or None when there is no such session or it has expired (then it is removed)."""
        if not session_id or len(session_id) > 200:
            return None
        repo = SessionRepository(session)
        row = await repo.get(sha256_hex(session_id))
        if row is None:
            return None
        now = runtime.clock.now()
        if now >= row.expires_at or now - row.last_seen_at >= runtime.settings.console_idle_timeout:
            # In a transaction of its own: the request's is rolled back when it goes on to the sign-in page.
            async with runtime.db.session() as own:
                await SessionRepository(own).delete_by_id(row.id)
            return None
        user = await UserRepository(session).get_in_tenant(row.tenant_id, row.user_id)
        tenant = await TenantRepository(session).get(row.tenant_id)
        if user is None or tenant is None:
            return None
        if now - row.last_seen_at >= TOUCH_RESOLUTION:
            row.last_seen_at = now
            await session.flush()
        return SignedIn(session_id, tenant, user, csrf_token_for(runtime, session_id))

    async def close(self, session: AsyncSession, session_id: str) -> None:
        repo = SessionRepository(session)
        row = await repo.get(sha256_hex(session_id))
        if row is not None:
            await repo.delete(row)


class SignInService:
    async def sign_in(
        self, session: AsyncSession, runtime: Runtime, tenant_id: str, username: str, password: str
    ) -> User:
        """The user whose password this is; else SignInRefused. A failure is recorded in `session`, which the
        caller commits (the refusal is an answer, not an error)."""
        tenant_id, username = tenant_id.strip().lower(), username.strip()
        if not tenant_id or not username or not password:
            raise SignInRefused("Enter your tenant, username and password.", 400)
        well_formed = (
            len(tenant_id) <= MAX_TENANT_ID
            and len(username) <= MAX_USERNAME
            and _printable(tenant_id)
            and _printable(username)
            and "\x00" not in password
        )
        if not well_formed:
            raise SignInRefused(WRONG_CREDENTIALS)
        await self._refuse_if_locked(session, runtime, tenant_id, username)
        user = await UserRepository(session).get_by_name(tenant_id, username)
        stored = user.password_hash if user is not None and user.password_hash else _decoy_hash()
        matches = await asyncio.to_thread(verify_password, stored, password[:MAX_PASSWORD])
        if user is None or not user.password_hash or not matches or len(password) > MAX_PASSWORD:
            await self._record_failure(session, runtime, tenant_id, username)
            raise SignInRefused(WRONG_CREDENTIALS)
        await SignInFailureRepository(session).clear(tenant_id, username)
        return user

    async def _refuse_if_locked(self, session: AsyncSession, runtime: Runtime, tenant_id: str, username: str) -> None:
        now, window = runtime.clock.now(), runtime.settings.console_lockout_window
        count, oldest = await SignInFailureRepository(session).since(tenant_id, username, now - window)
        if count < runtime.settings.console_lockout_attempts or oldest is None:
            return
        wait = max(1, math.ceil((oldest + window - now).total_seconds()))
        minutes = math.ceil(wait / 60)
        raise SignInRefused(
            f"Too many failed sign-ins for this user. Try again in {minutes} minute{'s' if minutes > 1 else ''}.",
            429,
            retry_after=wait,
        )

    async def _record_failure(self, session: AsyncSession, runtime: Runtime, tenant_id: str, username: str) -> None:
        now = runtime.clock.now()
        failures = SignInFailureRepository(session)
        await failures.clear(tenant_id, username, before=now - runtime.settings.console_lockout_window)
        await failures.create(SignInFailure(tenant_id=tenant_id, username=username, failed_at=now))

    async def change_password(
        self, session: AsyncSession, signed: SignedIn, current: str, new: str, confirm: str
    ) -> dict[str, str]:
        """Sets the new password and ends the user's other sessions; returns messages by field when it cannot."""
        errors: dict[str, str] = {}
        if len(new) < MIN_PASSWORD:
            errors["new_password"] = f"Use at least {MIN_PASSWORD} characters."
        elif len(new) > MAX_PASSWORD or "\x00" in new:
            errors["new_password"] = f"Use at most {MAX_PASSWORD} characters, and no NUL character."
        elif new != confirm:
            errors["confirm_password"] = "The two new passwords differ."
        user = signed.user
        stored = user.password_hash or _decoy_hash()
        valid = len(current) <= MAX_PASSWORD and await asyncio.to_thread(verify_password, stored, current)
        if not valid or not user.password_hash:
            errors["current_password"] = "This is not your current password."
        if errors:
            return errors
        user.password_hash = await asyncio.to_thread(hash_password, new)
        await SessionRepository(session).delete_of_user(user.id, keep=sha256_hex(signed.session_id))
        await session.flush()
        return {}


session_service = SessionService()
sign_in_service = SignInService()
