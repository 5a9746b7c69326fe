"""`/api/v1/nodes`: the spec's list, and (additions) create, read, replace, delete, and the node secret."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.services.gosd import schemas
from mediaplane.services.gosd.deps import GosdInstance, current_user
from mediaplane.services.gosd.inputs import request_body
from mediaplane.services.gosd.nodes import NodeService
from mediaplane.services.gosd.routes import PREFIX
from mediaplane.services.gosd.routes.live import Play

router = APIRouter(prefix=f"{PREFIX}/api/v1/nodes", tags=["nodes"], dependencies=[Depends(current_user)])
NodeId = Annotated[int, Path(ge=1, le=2**63 - 1)]


def node_service(instance: GosdInstance, session: SessionDep, runtime: RuntimeDep) -> NodeService:
    return NodeService(session, runtime, instance)


Nodes = Annotated[NodeService, Depends(node_service)]


@router.get("", summary="The nodes with their points")
async def list_nodes(nodes: Nodes, play: Play) -> list[dict[str, Any]]:
    return [schemas.node(n, points, play) for n, points in await nodes.list_all()]


@router.post("", status_code=201, summary="Create a node (name, description, type_name, points)")
async def create_node(request: Request, nodes: Nodes, play: Play) -> dict[str, Any]:
    async with request_body(request) as body:
        return schemas.node(*await nodes.create(body), play)


@router.get("/{node_id}", summary="One node with its points")
async def get_node(node_id: NodeId, nodes: Nodes, play: Play) -> dict[str, Any]:
    return schemas.node(*await nodes.get(node_id), play)


@router.put("/{node_id}", summary="Replace a node; `points`, when given, replaces its points")
async def update_node(node_id: NodeId, request: Request, nodes: Nodes, play: Play) -> dict[str, Any]:
    async with request_body(request) as body:
        return schemas.node(*await nodes.update(node_id, body), play)


@router.delete("/{node_id}", summary="Delete a node and its points (refused while plans use it); returns it")
async def delete_node(node_id: NodeId, nodes: Nodes, play: Play) -> dict[str, Any]:
    return schemas.node(*await nodes.delete(node_id), play)


@router.post("/{node_id}/secret", summary="A new node secret for the node agent, shown this once")
async def rotate_secret(node_id: NodeId, nodes: Nodes) -> dict[str, Any]:
    return await nodes.rotate_secret(node_id)
