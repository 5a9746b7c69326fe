"""Queries on gosd's tables, every one scoped to the instance (a token is found by its hash within it)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, exists, func, or_, select, update
from sqlalchemy.orm import aliased

from mediaplane.kit.db import RepositoryBase
from mediaplane.services.gosd.models import (
    GosdBlob,
    GosdJob,
    GosdLoginFailure,
    GosdNode,
    GosdPlan,
    GosdPlanFile,
    GosdPoint,
    GosdToken,
    GosdUser,
)


class UserRepository(RepositoryBase[GosdUser]):
    model = GosdUser

    async def by_username(self, instance_id: str, username: str) -> GosdUser | None:
        return await self.get_one_or_none(
            select(GosdUser).where(GosdUser.instance_id == instance_id, GosdUser.username == username)
        )

    async def first(self, instance_id: str) -> GosdUser | None:
        return await self.get_one_or_none(
            select(GosdUser).where(GosdUser.instance_id == instance_id).order_by(GosdUser.id).limit(1)
        )

    async def get_in(self, instance_id: str, user_id: int) -> GosdUser | None:
        return await self.get_one_or_none(
            select(GosdUser).where(GosdUser.instance_id == instance_id, GosdUser.id == user_id)
        )


class TokenRepository(RepositoryBase[GosdToken]):
    model = GosdToken

    async def valid(self, instance_id: str, token_hash: str, now: datetime) -> GosdToken | None:
        return await self.get_one_or_none(
            select(GosdToken).where(
                GosdToken.instance_id == instance_id, GosdToken.token_hash == token_hash, GosdToken.expires_at > now
            )
        )

    async def delete_expired(self, instance_id: str, now: datetime) -> None:
        await self.session.execute(
            delete(GosdToken).where(GosdToken.instance_id == instance_id, GosdToken.expires_at <= now)
        )

    async def delete_of_user(self, instance_id: str, user_id: int) -> None:
        await self.session.execute(
            delete(GosdToken).where(GosdToken.instance_id == instance_id, GosdToken.user_id == user_id)
        )


class LoginFailureRepository(RepositoryBase[GosdLoginFailure]):
    model = GosdLoginFailure

    async def since(self, instance_id: str, username: str, start: datetime) -> tuple[int, datetime | None]:
        """How many failures since `start`, and the oldest of them."""
        row = (
            await self.session.execute(
                select(func.count(), func.min(GosdLoginFailure.failed_at)).where(
                    GosdLoginFailure.instance_id == instance_id,
                    GosdLoginFailure.username == username,
                    GosdLoginFailure.failed_at > start,
                )
            )
        ).one()
        oldest = row[1]
        if isinstance(oldest, str):  # SQLite returns an aggregate of a typed column as text
            oldest = datetime.fromisoformat(oldest)
        return int(row[0]), oldest

    async def clear(self, instance_id: str, username: str, before: datetime | None = None) -> None:
        statement = delete(GosdLoginFailure).where(
            GosdLoginFailure.instance_id == instance_id, GosdLoginFailure.username == username
        )
        if before is not None:
            statement = statement.where(GosdLoginFailure.failed_at <= before)
        await self.session.execute(statement)


class NodeRepository(RepositoryBase[GosdNode]):
    model = GosdNode

    async def list_in(self, instance_id: str) -> Sequence[GosdNode]:
        return await self.get_all(select(GosdNode).where(GosdNode.instance_id == instance_id).order_by(GosdNode.id))

    async def get_in(self, instance_id: str, node_id: int) -> GosdNode | None:
        return await self.get_one_or_none(
            select(GosdNode).where(GosdNode.instance_id == instance_id, GosdNode.id == node_id)
        )


class PointRepository(RepositoryBase[GosdPoint]):
    model = GosdPoint

    async def of_nodes(self, instance_id: str, node_ids: Sequence[int]) -> Sequence[GosdPoint]:
        if not node_ids:
            return []
        return await self.get_all(
            select(GosdPoint)
            .where(GosdPoint.instance_id == instance_id, GosdPoint.node_id.in_(node_ids))
            .order_by(GosdPoint.node_id, GosdPoint.id)
        )

    async def get_in(self, instance_id: str, point_id: int) -> GosdPoint | None:
        return await self.get_one_or_none(
            select(GosdPoint).where(GosdPoint.instance_id == instance_id, GosdPoint.id == point_id)
        )

    # -- live points: the ingest knows no instance, the point id is the stream key ----------------------

    async def with_node(self, point_id: int) -> tuple[GosdPoint, GosdNode] | None:
        found = await self.session.execute(
            select(GosdPoint, GosdNode).join(GosdNode, GosdNode.id == GosdPoint.node_id).where(GosdPoint.id == point_id)
        )
        row = found.first()
        return (row[0], row[1]) if row is not None else None

    async def claim_live(self, point_id: int, node: str, now: datetime, stale_before: datetime) -> bool:
        """Marks the point live on `node` in one conditional UPDATE: only when it is not live, its heartbeat
        (updated_at) went stale, or `node` holds it (whose ingest lets one publisher per key in)."""
        free = or_(
            GosdPoint.live_since.is_(None),
            GosdPoint.live_node == node,
            GosdPoint.updated_at < stale_before,
        )
        result = await self.session.execute(
            update(GosdPoint)
            .where(GosdPoint.id == point_id, free)
            .values(live_since=now, live_node=node, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return bool(getattr(result, "rowcount", 0) == 1)

    async def live_on(self, node: str) -> Sequence[GosdPoint]:
        return await self.get_all(
            select(GosdPoint).where(GosdPoint.live_node == node, GosdPoint.live_since.is_not(None))
        )


class BlobRepository(RepositoryBase[GosdBlob]):
    model = GosdBlob

    async def get_in(self, instance_id: str, blob_id: int) -> GosdBlob | None:
        return await self.get_one_or_none(
            select(GosdBlob).where(GosdBlob.instance_id == instance_id, GosdBlob.id == blob_id)
        )

    async def existing(self, instance_id: str, blob_ids: Sequence[int]) -> set[int]:
        if not blob_ids:
            return set()
        rows = await self.session.execute(
            select(GosdBlob.id).where(GosdBlob.instance_id == instance_id, GosdBlob.id.in_(blob_ids))
        )
        return set(rows.scalars().all())


class PlanRepository(RepositoryBase[GosdPlan]):
    model = GosdPlan

    async def list_in(self, instance_id: str) -> Sequence[GosdPlan]:
        return await self.get_all(select(GosdPlan).where(GosdPlan.instance_id == instance_id).order_by(GosdPlan.id))

    async def get_in(self, instance_id: str, plan_id: int) -> GosdPlan | None:
        return await self.get_one_or_none(
            select(GosdPlan).where(GosdPlan.instance_id == instance_id, GosdPlan.id == plan_id)
        )

    async def of_node(self, instance_id: str, node_id: int) -> Sequence[GosdPlan]:
        return await self.get_all(
            select(GosdPlan).where(GosdPlan.instance_id == instance_id, GosdPlan.node_id == node_id)
        )


class PlanFileRepository(RepositoryBase[GosdPlanFile]):
    model = GosdPlanFile

    async def of_plans(self, instance_id: str, plan_ids: Sequence[int]) -> Sequence[GosdPlanFile]:
        if not plan_ids:
            return []
        return await self.get_all(
            select(GosdPlanFile)
            .where(GosdPlanFile.instance_id == instance_id, GosdPlanFile.plan_id.in_(plan_ids))
            .order_by(GosdPlanFile.id)
        )

    async def using_blob(self, instance_id: str, blob_id: int) -> Sequence[GosdPlanFile]:
        return await self.get_all(
            select(GosdPlanFile).where(GosdPlanFile.instance_id == instance_id, GosdPlanFile.blob_id == blob_id)
        )

    async def delete_named(self, instance_id: str, plan_id: int, name: str) -> None:
        await self.session.execute(
            delete(GosdPlanFile).where(
                GosdPlanFile.instance_id == instance_id, GosdPlanFile.plan_id == plan_id, GosdPlanFile.name == name
            )
        )

    async def delete_of_plan(self, instance_id: str, plan_id: int) -> None:
        await self.session.execute(
            delete(GosdPlanFile).where(GosdPlanFile.instance_id == instance_id, GosdPlanFile.plan_id == plan_id)
        )


ACTIVE_STATES = ("queued", "running")


class JobRepository(RepositoryBase[GosdJob]):
    model = GosdJob

    async def of_plan(self, instance_id: str, plan_id: int) -> Sequence[GosdJob]:
        return await self.get_all(
            select(GosdJob)
            .where(GosdJob.instance_id == instance_id, GosdJob.plan_id == plan_id)
            .order_by(GosdJob.job_id)
        )

    async def get_in(self, instance_id: str, plan_id: int, job_id: int) -> GosdJob | None:
        return await self.get_one_or_none(
            select(GosdJob).where(
                GosdJob.instance_id == instance_id, GosdJob.plan_id == plan_id, GosdJob.job_id == job_id
            )
        )

    async def next_job_id(self, plan_id: int) -> int:
        highest = await self.session.scalar(select(func.max(GosdJob.job_id)).where(GosdJob.plan_id == plan_id))
        return int(highest or 0) + 1

    async def active_of_plan(self, instance_id: str, plan_id: int) -> Sequence[GosdJob]:
        return await self.get_all(
            select(GosdJob)
            .where(GosdJob.instance_id == instance_id, GosdJob.plan_id == plan_id, GosdJob.state.in_(ACTIVE_STATES))
            .order_by(GosdJob.job_id)
        )

    async def start(self, job: GosdJob, now: datetime) -> bool:
        """queued → running, unless another job of its node runs (one at a time per node)."""
        other = aliased(GosdJob)
        busy = exists().where(other.node_id == job.node_id, other.state == "running", other.id != job.id)
        result = await self.session.execute(
            update(GosdJob)
            .where(GosdJob.id == job.id, GosdJob.state == "queued", ~busy)
            .values(state="running", started_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        await self.session.refresh(job)
        return True
