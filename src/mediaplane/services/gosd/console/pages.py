"""What the dashboard's routes share: the board (shown again with a refused form), the notices a redirect
names, and the "not found" of a row that is not in this fleet."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from mediaplane.console import ConsoleContext
from mediaplane.kit.errors import NotFound
from mediaplane.services.gosd.console.data import node_rows, recent_jobs
from mediaplane.services.gosd.console.forms import FormState
from mediaplane.services.gosd.plans import PlanService
from mediaplane.services.gosd.points import POINT_TYPES
from mediaplane.services.gosd.runner import MAX_SCRIPT

NOTICES = {
    "plan": "The plan is created. Run it below: a job runs its script on the plan's node.",
    "run": "The job is queued; its state changes here as it runs.",
    "cancelled": "The job is cancelled (a running job stops once its script has, and the node is told).",
    "cancelled-all": "The plan's queued jobs are cancelled; running ones stop once their script has.",
    "deleted": "The node is deleted with its points; its agent can no longer connect.",
}
EXAMPLE = """function main(plan)
  local node = NewNode(plan.nodeID)
  print("hello from node " .. plan.nodeID)
end
"""
NEW_NODE = {"type_name": "air", "secret": "on"}


def notice(ctx: ConsoleContext) -> str | None:
    return NOTICES.get(ctx.request.query_params.get("done", ""))


def back(ctx: ConsoleContext, path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{ctx.url}{path}?done={done}", status_code=303)


def missing(what: str) -> NotFound:
    return NotFound(f"There is no such {what} in this fleet.")


async def board(
    ctx: ConsoleContext, form: FormState | None = None, node_form: FormState | None = None, status: int = 200
) -> Response:
    nodes = await node_rows(ctx.session, ctx.runtime, ctx.instance)
    plans = await PlanService(ctx.session, ctx.runtime, ctx.instance).list_all()
    return ctx.render(
        "gosd/board.html",
        status_code=status,
        nodes=nodes,
        plans=plans,
        names={row.node.id: row.node.name for row in nodes},
        jobs=await recent_jobs(ctx.session, ctx.instance.id),
        form=form or FormState(values={"lua": EXAMPLE}),
        node_form=node_form or FormState(values=dict(NEW_NODE)),
        point_types=list(POINT_TYPES.values()),
        notice=notice(ctx),
        max_script=MAX_SCRIPT,
    )
