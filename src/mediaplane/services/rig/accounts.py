"""rig's own user accounts: sign-up, local login (rig's JWT) and password change, all within one instance."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.security import hash_password, verify_password
from mediaplane.services.rig import tokens
from mediaplane.services.rig.errors import Code, RigError
from mediaplane.services.rig.inputs import Text, read
from mediaplane.services.rig.models import RigAccount
from mediaplane.services.rig.repository import AccountRepository

# rig's validator tags (username min=3,max=64; email min=3,max=64; password min=8); a cap on the password
# keeps hashing cheap.
USERNAME = Text("username", min=3, max=64)
EMAIL = Text("email", min=3, max=64)
PASSWORD_MAX = 1024


@cache
def _decoy_hash() -> str:
    """Checked against when the user is unknown, so a login takes as long either way."""
    return hash_password("not a password of anyone")


class AccountService:
    def __init__(self, session: AsyncSession, runtime: Runtime, instance: Instance) -> None:
        self.session = session
        self.runtime = runtime
        self.instance = instance
        self.repo = AccountRepository(session)

    async def create(self, body: dict[str, Any]) -> RigAccount:
        values = read(body, USERNAME, Text("password", min=8, max=PASSWORD_MAX), EMAIL)
        failed = RigError(Code.CREATE_FAILED, "Cannot create user account.")
        if await self.repo.taken(self.instance.id, values["username"], values["email"]):
            raise failed
        now = self.runtime.clock.now()
        account = RigAccount(
            instance_id=self.instance.id,
            username=values["username"],
            email=values["email"],
            password_hash=await asyncio.to_thread(hash_password, values["password"]),
            created_at=now,
            updated_at=now,
        )
        try:
            async with self.session.begin_nested():  # a racing sign-up with the same name loses here, cleanly
                self.session.add(account)
        except IntegrityError:
            raise failed from None
        return account

    async def authenticate(self, body: dict[str, Any]) -> tuple[RigAccount, str]:
        values = read(body, Text("username"), Text("password", min=8, max=PASSWORD_MAX))
        account = await self.repo.by_username(self.instance.id, values["username"])
        stored = account.password_hash if account is not None else _decoy_hash()
        matches = await asyncio.to_thread(verify_password, stored, values["password"])
        if account is None or not matches:
            raise RigError(Code.INVALID_CREDENTIALS)
        return account, tokens.issue(self.runtime, self.instance, account.id, account.username)

    async def change_password(self, account: RigAccount, body: dict[str, Any]) -> RigAccount:
        values = read(body, Text("oldPassword", min=8, max=PASSWORD_MAX), Text("newPassword", min=8, max=PASSWORD_MAX))
        if not await asyncio.to_thread(verify_password, account.password_hash, values["oldPassword"]):
            raise RigError(Code.UPDATE_FAILED, "Cannot update user password")
        return await self._store_password(account, values["newPassword"])

    async def set_password(self, account: RigAccount, body: dict[str, Any]) -> RigAccount:
        """The instance owner's reset (the console): a new password without the old one."""
        values = read(body, Text("newPassword", min=8, max=PASSWORD_MAX))
        return await self._store_password(account, values["newPassword"])

    async def _store_password(self, account: RigAccount, password: str) -> RigAccount:
        account.password_hash = await asyncio.to_thread(hash_password, password)
        account.updated_at = self.runtime.clock.now()
        await self.session.flush()
        return account

    async def from_token(self, token: str) -> RigAccount:
        try:
            claims = tokens.verify(self.runtime, self.instance, token)
        except tokens.InvalidToken:
            raise RigError(Code.INVALID_CREDENTIALS) from None
        account = await self.repo.get_in(self.instance.id, claims.user_id)
        if account is None:
            raise RigError(Code.INVALID_CREDENTIALS)
        return account
