from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from mediaplane.core.tenant.models import Tenant, User
from mediaplane.kit.db import RepositoryBase


class TenantRepository(RepositoryBase[Tenant]):
    model = Tenant

    async def get(self, tenant_id: str) -> Tenant | None:
        return await self.session.get(Tenant, tenant_id)

    async def list(self) -> Sequence[Tenant]:
        return await self.get_all(select(Tenant).order_by(Tenant.id))


class UserRepository(RepositoryBase[User]):
    model = User

    async def get_by_name(self, tenant_id: str, username: str) -> User | None:
        return await self.get_one_or_none(select(User).where(User.tenant_id == tenant_id, User.username == username))

    async def get_in_tenant(self, tenant_id: str, user_id: str) -> User | None:
        return await self.get_one_or_none(select(User).where(User.tenant_id == tenant_id, User.id == user_id))

    async def list_for_tenant(self, tenant_id: str) -> Sequence[User]:
        return await self.get_all(select(User).where(User.tenant_id == tenant_id).order_by(User.username))

    async def count_in_tenant(self, tenant_id: str) -> int:
        return await self.count(select(User).where(User.tenant_id == tenant_id))
