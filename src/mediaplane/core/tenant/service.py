"""Tenants and their users; creating a tenant also creates its first user and PAT."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.runtime import Runtime
from mediaplane.core.tenant.models import TENANT_ID_PATTERN, Tenant, User
from mediaplane.core.tenant.repository import TenantRepository, UserRepository
from mediaplane.core.token.models import PersonalAccessToken
from mediaplane.core.token.service import token_service
from mediaplane.kit.errors import BadRequest, Conflict
from mediaplane.kit.security import hash_password

ADMIN_TENANT = "admin"
MAX_TENANT_ID = 63


@dataclass
class CreatedTenant:
    tenant: Tenant
    user: User
    pat: PersonalAccessToken
    token: str


class TenantService:
    def validate_id(self, tenant_id: str) -> str:
        if not re.fullmatch(TENANT_ID_PATTERN, tenant_id or "") or len(tenant_id) > MAX_TENANT_ID:
            raise BadRequest(
                f"Invalid tenant id: {tenant_id!r}. Only lowercase letters and digits are allowed "
                f"(at most {MAX_TENANT_ID})."
            )
        return tenant_id

    async def create(
        self,
        session: AsyncSession,
        runtime: Runtime,
        tenant_id: str,
        *,
        username: str = "admin",
        password: str | None = None,
        title: str = "",
    ) -> CreatedTenant:
        self.validate_id(tenant_id)
        tenants = TenantRepository(session)
        if await tenants.get(tenant_id) is not None:
            raise Conflict(f"Tenant {tenant_id} already exists")
        tenant = await tenants.create(Tenant(id=tenant_id, title=title or tenant_id))
        password_hash = await asyncio.to_thread(hash_password, password) if password else None
        user = await UserRepository(session).create(
            User(tenant_id=tenant_id, username=username, password_hash=password_hash)
        )
        pat, token = await token_service.create_pat(
            session, runtime, tenant_id=tenant_id, user_id=user.id, name="default"
        )
        return CreatedTenant(tenant, user, pat, token)

    async def list(self, session: AsyncSession) -> list[Tenant]:
        return list(await TenantRepository(session).list())

    async def exists(self, session: AsyncSession, tenant_id: str) -> bool:
        return await TenantRepository(session).get(tenant_id) is not None


tenant_service = TenantService()
