"""gosd's users and OAuth tokens: the password grant of `POST /oauth/token`, with a lockout after repeated
failures, and the Bearer tokens every other route asks for. All within one instance.

Tokens are 32 random bytes in hex (as gosd's), kept only as their SHA-256, and live 7200 s. Failed logins are
rows, so the lockout holds across processes: 5 failures for a username within 15 minutes refuse it (429 with
Retry-After) until the oldest of them is 15 minutes old.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import math
import secrets
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import Any
from urllib.parse import unquote

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.security import hash_password, sha256_hex, verify_password
from mediaplane.services.gosd.errors import GosdError, unauthorized
from mediaplane.services.gosd.models import GosdLoginFailure, GosdToken, GosdUser
from mediaplane.services.gosd.options import GosdOptions
from mediaplane.services.gosd.repository import LoginFailureRepository, TokenRepository, UserRepository

TOKEN_LIFETIME = timedelta(seconds=7200)
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(minutes=15)
MAX_PASSWORD = 1024


@cache
def _decoy_hash() -> str:
    """Checked against when the user is unknown, so a login takes as long either way."""
    return hash_password("not a password of anyone")


@dataclass(frozen=True)
class Grant:
    """What a token request carries (RFC 6749 §4.3, client credentials in the body or HTTP Basic)."""

    grant_type: str
    username: str
    password: str
    client_id: str
    client_secret: str


def oauth_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> GosdError:
    return GosdError(status, f"{code}: {message}", oauth_error=code, headers=headers)


def _field(fields: dict[str, Any], name: str) -> str:
    value = fields.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise oauth_error(400, "invalid_request", f"{name} must be a string")
    return value


def read_grant(fields: dict[str, Any], authorization: str | None) -> Grant:
    client_id, client_secret = _field(fields, "client_id"), _field(fields, "client_secret")
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            raise oauth_error(401, "invalid_client", "the Basic authorization header is malformed") from None
        basic_id, _, basic_secret = decoded.partition(":")
        client_id, client_secret = unquote(basic_id), unquote(basic_secret)
    return Grant(
        grant_type=_field(fields, "grant_type"),
        username=_field(fields, "username").strip().lower(),
        password=_field(fields, "password"),
        client_id=client_id,
        client_secret=client_secret,
    )


def _same(given: str, expected: str) -> bool:
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


class AccountService:
    def __init__(self, session: AsyncSession, runtime: Runtime, instance: Instance) -> None:
        self.session = session
        self.runtime = runtime
        self.instance = instance
        self.users = UserRepository(session)
        self.tokens = TokenRepository(session)
        self.failures = LoginFailureRepository(session)

    # -- the first user, from the instance options ---------------------------------------------------

    async def sync_first_user(self, *, password_changed: bool = True) -> GosdUser:
        """Creates the user of the options, or brings the first user in line with them (name, password)."""
        options = GosdOptions.of(self.instance.options)
        username = options.username.lower()
        now = self.runtime.clock.now()
        user = await self.users.by_username(self.instance.id, username) or await self.users.first(self.instance.id)
        if user is None:
            user = GosdUser(
                instance_id=self.instance.id,
                username=username,
                password_hash=await asyncio.to_thread(hash_password, options.password),
                created_at=now,
                updated_at=now,
            )
            return await self.users.create(user)
        user.username = username
        if password_changed and not await asyncio.to_thread(verify_password, user.password_hash, options.password):
            user.password_hash = await asyncio.to_thread(hash_password, options.password)
            await self.tokens.delete_of_user(self.instance.id, user.id)
        user.updated_at = now
        await self.session.flush()
        return user

    # -- POST /oauth/token ---------------------------------------------------------------------------

    async def issue_token(self, grant: Grant) -> dict[str, Any]:
        options = GosdOptions.of(self.instance.options)
        if not grant.grant_type:
            raise oauth_error(400, "invalid_request", "grant_type is required (only password is supported)")
        if grant.grant_type != "password":
            raise oauth_error(400, "unsupported_grant_type", "only the password grant is supported")
        if not (_same(grant.client_id, options.client_id) and _same(grant.client_secret, options.client_secret)):
            raise oauth_error(401, "invalid_client", "unknown client_id or wrong client_secret")
        if not grant.username or not grant.password:
            raise oauth_error(400, "invalid_request", "username and password are required")
        await self._refuse_if_locked(grant.username)
        user = await self.users.by_username(self.instance.id, grant.username)
        password = grant.password[:MAX_PASSWORD]
        stored = user.password_hash if user is not None else _decoy_hash()
        matches = await asyncio.to_thread(verify_password, stored, password)
        if user is None or not matches or len(grant.password) > MAX_PASSWORD:
            await self._record_failure(grant.username)
            raise oauth_error(400, "invalid_grant", "wrong username or password")
        now = self.runtime.clock.now()
        await self.failures.clear(self.instance.id, grant.username)
        await self.tokens.delete_expired(self.instance.id, now)
        token = secrets.token_hex(32)
        await self.tokens.create(
            GosdToken(
                instance_id=self.instance.id,
                user_id=user.id,
                token_hash=sha256_hex(token),
                created_at=now,
                expires_at=now + TOKEN_LIFETIME,
            )
        )
        return {
            "access_token": token,
            "token_type": "bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "created_at": int(now.timestamp()),
        }

    async def _refuse_if_locked(self, username: str) -> None:
        now = self.runtime.clock.now()
        count, oldest = await self.failures.since(self.instance.id, username, now - FAILURE_WINDOW)
        if count < MAX_FAILURES or oldest is None:
            return
        wait = max(1, math.ceil((oldest + FAILURE_WINDOW - now).total_seconds()))
        message = f"user already locked: too many failed logins, try again in {wait} s"
        raise GosdError(429, message, oauth_error="invalid_grant", headers={"Retry-After": str(wait)})

    async def _record_failure(self, username: str) -> None:
        """In a transaction of its own: the request's is rolled back with the error this leads to."""
        now = self.runtime.clock.now()
        async with self.runtime.db.session() as session:
            failures = LoginFailureRepository(session)
            await failures.clear(self.instance.id, username, before=now - FAILURE_WINDOW)
            session.add(GosdLoginFailure(instance_id=self.instance.id, username=username, failed_at=now))

    # -- Bearer tokens -------------------------------------------------------------------------------

    async def from_token(self, token: str) -> GosdUser:
        found = await self.tokens.valid(self.instance.id, sha256_hex(token), self.runtime.clock.now())
        user = await self.users.get_in(self.instance.id, found.user_id) if found is not None else None
        if user is None:
            raise unauthorized()
        return user
