from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from mediaplane.core.token.models import PersonalAccessToken
from mediaplane.kit.db import RepositoryBase


class PatRepository(RepositoryBase[PersonalAccessToken]):
    model = PersonalAccessToken

    async def get(self, pat_id: str) -> PersonalAccessToken | None:
        return await self.session.get(PersonalAccessToken, pat_id)

    async def get_in_tenant(self, tenant_id: str, pat_id: str) -> PersonalAccessToken | None:
        return await self.get_one_or_none(
            select(PersonalAccessToken).where(
                PersonalAccessToken.tenant_id == tenant_id, PersonalAccessToken.id == pat_id
            )
        )

    async def list_for_tenant(self, tenant_id: str) -> Sequence[PersonalAccessToken]:
        return await self.get_all(
            select(PersonalAccessToken)
            .where(PersonalAccessToken.tenant_id == tenant_id)
            .order_by(PersonalAccessToken.created_at)
        )
