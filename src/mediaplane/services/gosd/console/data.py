"""What the dashboard reads: the instance's nodes with their points, plans, jobs, and the live state the
pages update from (online/offline, the node's latest status, each live point, each job's state)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.errors import NotFound
from mediaplane.services.gosd.jobs import LOG_KEY, TERMINAL
from mediaplane.services.gosd.live import INGESTED, is_live
from mediaplane.services.gosd.models import GosdJob, GosdNode, GosdPoint
from mediaplane.services.gosd.nodes import NodeService
from mediaplane.services.gosd.points import type_name
from mediaplane.services.gosd.schemas import timestamp

MAX_JOBS = 50  # the newest jobs shown (and sent live)
MAX_ID = 2**63 - 1


def id_of(value: str, what: str) -> int:
    """An id from a path, or 404."""
    if not (value.isascii() and value.isdigit() and 0 < len(value) <= 19) or not 0 < int(value) <= MAX_ID:
        raise NotFound(f"There is no such {what} in this fleet.")
    return int(value)


@dataclass
class NodeRow:
    node: GosdNode
    points: list[GosdPoint]

    @property
    def telemetry(self) -> dict[str, Any]:
        """The node's latest status as the agent sent it (`status.status`: position, link, type)."""
        status = self.node.status or {}
        inner = status.get("status") if isinstance(status, dict) else None
        return inner if isinstance(inner, dict) else {}


def is_video(point: GosdPoint) -> bool:
    return point.point_type_id in INGESTED


def point_state(point: GosdPoint, runtime: Runtime, now: datetime) -> dict[str, Any]:
    return {
        "id": point.id,
        "type": type_name(point.point_type_id),
        "video": is_video(point),
        "live": is_video(point) and is_live(point, runtime.settings, now),
    }


def node_state(row: NodeRow, runtime: Runtime, now: datetime) -> dict[str, Any]:
    return {
        "id": row.node.id,
        "name": row.node.name,
        "typeName": row.node.type_name,
        "online": row.node.online,
        "seenAt": timestamp(row.node.seen_at),
        "telemetry": row.telemetry,
        "points": [point_state(p, runtime, now) for p in row.points],
    }


def job_state(job: GosdJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "planId": job.plan_id,
        "jobId": job.job_id,
        "nodeId": job.node_id,
        "state": job.state,
        "error": job.error,
        "startedAt": timestamp(job.started_at),
        "finishedAt": timestamp(job.finished_at),
        "ended": job.state in TERMINAL,
        "hasLog": LOG_KEY in (job.files or {}),
    }


async def node_rows(session: AsyncSession, runtime: Runtime, instance: Instance) -> list[NodeRow]:
    return [NodeRow(n, p) for n, p in await NodeService(session, runtime, instance).list_all()]


async def recent_jobs(session: AsyncSession, instance_id: str, plan_id: int | None = None) -> Sequence[GosdJob]:
    """The newest jobs of the instance (or of one plan), newest first."""
    query = select(GosdJob).where(GosdJob.instance_id == instance_id)
    if plan_id is not None:
        query = query.where(GosdJob.plan_id == plan_id)
    return (await session.scalars(query.order_by(GosdJob.id.desc()).limit(MAX_JOBS))).all()


async def live_state(session: AsyncSession, runtime: Runtime, instance: Instance) -> dict[str, Any]:
    """Everything the pages update live: every node and the newest jobs (no secrets)."""
    now = runtime.clock.now()
    nodes = await node_rows(session, runtime, instance)
    jobs = await recent_jobs(session, instance.id)
    return {"nodes": [node_state(r, runtime, now) for r in nodes], "jobs": [job_state(j) for j in jobs]}
