"""The JSON of gosd's objects, with the spec's field names."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mediaplane.services.gosd.models import GosdBlob, GosdNode, GosdPlan, GosdPoint
from mediaplane.services.gosd.points import type_name


def point(p: GosdPoint) -> dict[str, Any]:
    name = type_name(p.point_type_id)
    return {
        "id": p.id,
        "name": p.name,
        "node_id": p.node_id,
        "point_type_id": p.point_type_id,
        "point_type_name": name,
        "type": name,
        "params": dict(p.params or {}),
    }


def node(n: GosdNode, points: Sequence[GosdPoint]) -> dict[str, Any]:
    return {
        "id": n.id,
        "name": n.name,
        "description": n.description,
        "points": [point(p) for p in points],
        "type_name": n.type_name,
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
