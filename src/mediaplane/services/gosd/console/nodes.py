"""Nodes on the dashboard, as `mediaplane gosd nodes …` does them: a node's page, create one (with its agent
secret), give it a new secret and delete it (each after a confirmation page). A secret is shown once, on the
page that answers the POST, with how to start the node's agent with it; only its hash is kept."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from mediaplane.console import ConsoleContext, CurrentConsole
from mediaplane.console.deps import read_form, text
from mediaplane.console.errors import PageError
from mediaplane.core.urls import base_url, instance_url
from mediaplane.services.gosd.console import pages
from mediaplane.services.gosd.console.data import NodeRow, id_of, is_video
from mediaplane.services.gosd.console.forms import NODE_FIELDS, FormState, LinesError, read_points, refused, tidy
from mediaplane.services.gosd.errors import GosdError
from mediaplane.services.gosd.inputs import Body
from mediaplane.services.gosd.models import GosdNode, GosdPlan
from mediaplane.services.gosd.nodes import NodeService
from mediaplane.services.gosd.plans import PlanService
from mediaplane.services.gosd.points import type_name

router = APIRouter()


def _nodes(ctx: ConsoleContext) -> NodeService:
    return NodeService(ctx.session, ctx.runtime, ctx.instance)


async def _node(ctx: ConsoleContext, node_id: str) -> NodeRow:
    try:
        return NodeRow(*await _nodes(ctx).get(id_of(node_id, "node")))
    except GosdError:
        raise pages.missing("node") from None


async def _plans_of(ctx: ConsoleContext, node: GosdNode) -> list[GosdPlan]:
    plans = await PlanService(ctx.session, ctx.runtime, ctx.instance).list_all()
    return [p for p, _ in plans if p.node_id == node.id]


def _server(ctx: ConsoleContext) -> str:
    """The instance's gosd base URL, the agent's `--server` (as the instance's `baseUrl` resource)."""
    settings = ctx.runtime.settings
    base = base_url(settings, ctx.request)
    return instance_url(settings, base, ctx.spec.id, ctx.instance.tenant_id, ctx.instance.name) + "gosd"


def _secret_page(ctx: ConsoleContext, row: NodeRow, secret: str | None, created: bool) -> Response:
    verb = "created" if created else "has a new secret"
    return ctx.render(
        "gosd/node_secret.html",
        title=f"Node {row.node.name} {verb}: {ctx.instance.name}",
        row=row,
        secret=secret,
        created=created,
        server=_server(ctx),
        type_name=type_name,
    )


@router.get("/nodes/{node_id}")
async def node(node_id: str, ctx: CurrentConsole) -> Response:
    row = await _node(ctx, node_id)
    return ctx.render(
        "gosd/node.html",
        title=f"Node {row.node.name}: {ctx.instance.name}",
        row=row,
        type_name=type_name,
        is_video=is_video,
        plans=await _plans_of(ctx, row.node),
    )


@router.post("/nodes")
async def create_node(ctx: CurrentConsole) -> Response:
    form = await read_form(ctx.request)
    state = FormState(values={name: text(form, name) for name in (*NODE_FIELDS, "secret")})
    state.values["points"] = tidy(state.values["points"])
    fields: dict[str, Any] = {k: state.values[k] for k in ("name", "type_name", "description")}
    try:
        fields["points"] = read_points(state.values["points"])
        found, points = await _nodes(ctx).create(Body(fields=fields))
        # As `nodes create --secret`: in the same transaction, so a refusal keeps nothing.
        secret = (await _nodes(ctx).rotate_secret(found.id))["secret"] if state.values["secret"] else None
    except LinesError as exc:
        state.errors["points"] = str(exc)
    except GosdError as exc:
        refused(exc, state, NODE_FIELDS)
    else:
        return _secret_page(ctx, NodeRow(found, points), secret, created=True)
    raise PageError(await pages.board(ctx, node_form=state, status=400))


@router.get("/nodes/{node_id}/secret")
async def secret_confirm(node_id: str, ctx: CurrentConsole) -> Response:
    row = await _node(ctx, node_id)
    return ctx.render("gosd/node_secret_confirm.html", title=f"New secret for {row.node.name}", row=row)


@router.post("/nodes/{node_id}/secret")
async def rotate_secret(node_id: str, ctx: CurrentConsole) -> Response:
    row = await _node(ctx, node_id)
    answer = await _nodes(ctx).rotate_secret(row.node.id)
    return _secret_page(ctx, row, answer["secret"], created=False)


async def _delete_page(ctx: ConsoleContext, row: NodeRow, error: str | None = None, status: int = 200) -> Response:
    return ctx.render(
        "gosd/node_delete.html",
        status_code=status,
        title=f"Delete {row.node.name}",
        row=row,
        plans=await _plans_of(ctx, row.node),
        error=error,
    )


@router.get("/nodes/{node_id}/delete")
async def delete_confirm(node_id: str, ctx: CurrentConsole) -> Response:
    return await _delete_page(ctx, await _node(ctx, node_id))


@router.post("/nodes/{node_id}/delete")
async def delete_node(node_id: str, ctx: CurrentConsole) -> Response:
    row = await _node(ctx, node_id)
    try:
        await _nodes(ctx).delete(row.node.id)
    except GosdError as exc:  # a plan uses it (gosd's 409, with its message)
        raise PageError(await _delete_page(ctx, row, exc.message, status=exc.status_code)) from None
    return pages.back(ctx, "/", "deleted")
