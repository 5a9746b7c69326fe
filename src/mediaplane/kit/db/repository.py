"""Repository base: all SQL lives in repositories; services compose what these return."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.kit.db.base import Model

M = TypeVar("M", bound=Model)


class RepositoryBase(Generic[M]):
    model: type[M]

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    @classmethod
    def from_session(cls, session: AsyncSession) -> RepositoryBase[M]:
        return cls(session)

    def statement(self) -> Select[M]:
        return select(self.model)

    async def get_one_or_none(self, statement: Select[M]) -> M | None:
        result = await self.session.execute(statement)
        return result.scalars().first()

    async def get_all(self, statement: Select[M]) -> Sequence[M]:
        result = await self.session.execute(statement)
        return result.scalars().all()

    async def count(self, statement: Select[M]) -> int:
        total = await self.session.execute(select(func.count()).select_from(statement.subquery()))
        return int(total.scalar_one())

    async def paginate(self, statement: Select[M], *, page: int, size: int) -> tuple[Sequence[M], int]:
        total = await self.count(statement)
        items = await self.get_all(statement.offset(page * size).limit(size))
        return items, total

    async def create(self, obj: M, *, flush: bool = True) -> M:
        self.session.add(obj)
        if flush:
            await self.session.flush()
        return obj

    async def delete(self, obj: M, *, flush: bool = True) -> None:
        await self.session.delete(obj)
        if flush:
            await self.session.flush()

    async def update(self, obj: M, values: dict[str, Any], *, flush: bool = True) -> M:
        for key, value in values.items():
            setattr(obj, key, value)
        if flush:
            await self.session.flush()
        return obj
