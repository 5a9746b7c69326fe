"""Nodes and their points (mediaplane keeps them in the database; gosd v2 served a static file), and the
node secret the node agent will sign in with."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.security import sha256_hex
from mediaplane.services.gosd.errors import GosdError, bad_request, not_found
from mediaplane.services.gosd.inputs import Body, as_id, text
from mediaplane.services.gosd.live import drop_publishers
from mediaplane.services.gosd.models import GosdNode, GosdPoint
from mediaplane.services.gosd.points import BY_NAME, POINT_TYPES
from mediaplane.services.gosd.repository import NodeRepository, PlanRepository, PointRepository

TYPE_NAME = re.compile(r"[a-z0-9_-]{1,32}")
MAX_POINTS = 100
MAX_PARAMS_KEYS = 100


def new_node_secret() -> str:
    """32 characters from [A-Za-z0-9_-] (192 random bits)."""
    return secrets.token_urlsafe(24)


def _point_type(index: int, item: dict[str, Any]) -> int:
    label = f"points[{index}]"
    given_id = item.get("point_type_id")
    given_name = item.get("point_type_name", item.get("type"))
    if given_name is not None:
        if not isinstance(given_name, str) or given_name not in BY_NAME:
            raise bad_request(f"{label}.type: unknown point type {given_name!r} (one of: {', '.join(BY_NAME)})")
        if given_id is not None and as_id(f"{label}.point_type_id", given_id) != BY_NAME[given_name]:
            raise bad_request(f"{label}: point_type_id and type name different point types")
        return BY_NAME[given_name]
    if given_id is None:
        raise bad_request(f"{label}: type (or point_type_name, point_type_id) is required")
    type_id = as_id(f"{label}.point_type_id", given_id)
    if type_id not in POINT_TYPES:
        raise bad_request(f"{label}.point_type_id: unknown point type {type_id}")
    return type_id


def read_points(value: Any) -> list[tuple[int | None, str, int, dict[str, Any]]]:
    """(id or None, name, point type id, params) of each point given."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise bad_request("points: must be a list of points")
    if len(value) > MAX_POINTS:
        raise bad_request(f"points: more than {MAX_POINTS}")
    points = []
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            raise bad_request(f"points[{index}]: must be an object")
        point_id = as_id(f"points[{index}].id", item["id"]) if item.get("id") is not None else None
        name = text(Body(fields=item), "name", max_length=1024)
        if "\x00" in name:
            raise bad_request(f"points[{index}].name: must not contain NUL characters")
        params = item.get("params")
        if params is None:
            params = {}
        if not isinstance(params, dict) or len(params) > MAX_PARAMS_KEYS:
            raise bad_request(f"points[{index}].params: must be an object (at most {MAX_PARAMS_KEYS} keys)")
        points.append((point_id, name, _point_type(index, item), params))
    return points


def _type_name(body: Body) -> str:
    value = text(body, "type_name", required=True, max_length=32)
    if not TYPE_NAME.fullmatch(value):
        raise bad_request("type_name: 1 to 32 characters of a-z, 0-9, _ and - (e.g. air, depot)")
    return value


class NodeService:
    def __init__(self, session: AsyncSession, runtime: Runtime, instance: Instance) -> None:
        self.session = session
        self.runtime = runtime
        self.instance = instance
        self.nodes = NodeRepository(session)
        self.points = PointRepository(session)

    async def list_all(self) -> list[tuple[GosdNode, list[GosdPoint]]]:
        nodes = await self.nodes.list_in(self.instance.id)
        return await self._with_points(nodes)

    async def _with_points(self, nodes: Sequence[GosdNode]) -> list[tuple[GosdNode, list[GosdPoint]]]:
        points = await self.points.of_nodes(self.instance.id, [n.id for n in nodes])
        by_node: dict[int, list[GosdPoint]] = {n.id: [] for n in nodes}
        for p in points:
            by_node[p.node_id].append(p)
        return [(n, by_node[n.id]) for n in nodes]

    async def get(self, node_id: int) -> tuple[GosdNode, list[GosdPoint]]:
        found = await self.nodes.get_in(self.instance.id, node_id)
        if found is None:
            raise not_found(f"No node {node_id}")
        return (await self._with_points([found]))[0]

    async def create(self, body: Body) -> tuple[GosdNode, list[GosdPoint]]:
        name = text(body, "name", required=True, max_length=255)
        description = text(body, "description")
        type_name = _type_name(body)
        points = read_points(body.fields.get("points"))
        if any(point_id is not None for point_id, *_ in points):
            raise bad_request("points: a new node's points cannot carry ids")
        now = self.runtime.clock.now()
        node = GosdNode(
            instance_id=self.instance.id,
            name=name,
            description=description,
            type_name=type_name,
            created_at=now,
            updated_at=now,
        )
        await self.nodes.create(node)
        await self._replace_points(node, [], points)
        return await self.get(node.id)

    async def update(self, node_id: int, body: Body) -> tuple[GosdNode, list[GosdPoint]]:
        """Replaces name, description and type_name; `points`, when given, replaces the points: a point with
        the id of one of the node's keeps its id, one without an id is added, the others are removed."""
        node, current = await self.get(node_id)
        node.name = text(body, "name", required=True, max_length=255)
        node.description = text(body, "description")
        node.type_name = _type_name(body)
        node.updated_at = self.runtime.clock.now()
        if "points" in body.fields:
            await self._replace_points(node, current, read_points(body.fields["points"]))
        await self.session.flush()
        return await self.get(node.id)

    async def _replace_points(
        self, node: GosdNode, current: list[GosdPoint], given: list[tuple[int | None, str, int, dict[str, Any]]]
    ) -> None:
        now = self.runtime.clock.now()
        by_id = {p.id: p for p in current}
        kept: set[int] = set()
        for point_id, name, type_id, params in given:
            if point_id is not None:
                point = by_id.get(point_id)
                if point is None:
                    raise bad_request(f"points: node {node.id} has no point {point_id}")
                if point_id in kept:
                    raise bad_request(f"points: point {point_id} is given twice")
                kept.add(point_id)
                point.name, point.point_type_id, point.params, point.updated_at = name, type_id, params, now
                continue
            self.session.add(
                GosdPoint(
                    instance_id=self.instance.id,
                    node_id=node.id,
                    name=name,
                    point_type_id=type_id,
                    params=params,
                    created_at=now,
                    updated_at=now,
                )
            )
        for point in current:
            if point.id not in kept:
                await self.session.delete(point)
        await self.session.flush()

    async def delete(self, node_id: int) -> tuple[GosdNode, list[GosdPoint]]:
        node, points = await self.get(node_id)
        plans = await PlanRepository(self.session).of_node(self.instance.id, node.id)
        if plans:
            ids = ", ".join(str(p.id) for p in plans)
            raise GosdError(409, f"Node {node.id} is used by plans {ids}: delete or move them first")
        await drop_publishers(self.session, self.runtime, points)
        await self.nodes.delete(node)  # its points go with it (ON DELETE CASCADE)
        return node, points

    async def rotate_secret(self, node_id: int) -> dict[str, Any]:
        """A new node secret, answered this once; only its SHA-256 is kept, and the old one stops working."""
        node, points = await self.get(node_id)
        secret = new_node_secret()
        now = self.runtime.clock.now()
        node.secret_hash = sha256_hex(secret)
        node.secret_set_at = now
        node.updated_at = now
        await self.session.flush()
        await drop_publishers(self.session, self.runtime, points)  # they came with the old secret
        return {"id": node.id, "secret": secret, "created_at": now.isoformat()}
