"""The JSON of gosd's objects, with the spec's field names."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mediaplane.services.gosd.live import PlayUrls
from mediaplane.services.gosd.models import GosdBlob, GosdJob, GosdNode, GosdPlan, GosdPoint
from mediaplane.services.gosd.points import type_name


def point(p: GosdPoint, play: PlayUrls | None = None) -> dict[str, Any]:
    """With `play`: a live point's `params.url` (unless the user set one) and `live`."""
    name = type_name(p.point_type_id)
    shown = {
        "id": p.id,
        "name": p.name,
        "node_id": p.node_id,
        "point_type_id": p.point_type_id,
        "point_type_name": name,
        "type": name,
        "params": play.params(p) if play is not None else dict(p.params or {}),
    }
    if play is not None:
        shown["live"] = play.live(p)
    return shown


def node(n: GosdNode, points: Sequence[GosdPoint], play: PlayUrls | None = None) -> dict[str, Any]:
    return {
        "id": n.id,
        "name": n.name,
        "description": n.description,
        "points": [point(p, play) for p in points],
        "type_name": n.type_name,
        "online": n.online,
        "status": n.status,
        "secret_set_at": n.secret_set_at.isoformat() if n.secret_set_at else None,
        "created_at": n.created_at.isoformat(),
        "updated_at": n.updated_at.isoformat(),
    }


def plan(p: GosdPlan, files: dict[str, str]) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "description": p.description,
        "node_id": p.node_id,
        "files": files,
        "extra": dict(p.extra or {}),
    }


def blob(b: GosdBlob) -> dict[str, Any]:
    return {"id": b.id, "filename": b.filename}


def timestamp(value: datetime | None) -> str | None:
    """RFC 3339 in UTC with a Z, as gosd's job times ("2021-03-20T09:02:20.386117Z")."""
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def job(j: GosdJob) -> dict[str, Any]:
    """The spec's job, then mediaplane's state fields (clients ignore keys they do not know)."""
    return {
        "id": j.id,
        "job_id": j.job_id,
        "plan_id": j.plan_id,
        "files": dict(j.files or {}),
        "extra": dict(j.extra or {}),
        "created_at": timestamp(j.created_at),
        "updated_at": timestamp(j.updated_at),
        "node_id": j.node_id,
        "state": j.state,
        "error": j.error,
        "started_at": timestamp(j.started_at),
        "finished_at": timestamp(j.finished_at),
    }
