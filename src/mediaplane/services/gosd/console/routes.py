"""The dashboard's pages and forms, under /console/gosd/<instance>/. Every form posts and redirects (or shows
itself again with gosd's messages); the live parts (presence, status, job states, video) come from events.py."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, RedirectResponse, Response

from mediaplane.console import ConsoleContext, CurrentConsole
from mediaplane.console.deps import read_form, text
from mediaplane.console.errors import PageError
from mediaplane.kit.errors import NotFound
from mediaplane.services.gosd.blobs import BlobService
from mediaplane.services.gosd.console import events
from mediaplane.services.gosd.console.data import NodeRow, id_of, is_video, live_state, node_rows, recent_jobs
from mediaplane.services.gosd.console.forms import FIELDS, FormState, as_upload, lua_error, refused, script_of
from mediaplane.services.gosd.errors import GosdError
from mediaplane.services.gosd.inputs import Body
from mediaplane.services.gosd.jobs import LOG_KEY, TERMINAL, JobService
from mediaplane.services.gosd.models import GosdJob, GosdPlan
from mediaplane.services.gosd.nodes import NodeService
from mediaplane.services.gosd.plans import PlanService
from mediaplane.services.gosd.points import type_name
from mediaplane.services.gosd.runner import MAX_SCRIPT, SCRIPT_KEY

router = APIRouter()
router.include_router(events.router)
STATIC = {"gosd.js": "text/javascript", "gosd.css": "text/css"}
STATIC_DIR = Path(__file__).parent / "static"
MAX_LOG_SHOWN = 1024 * 1024
NOTICES = {
    "plan": "The plan is created. Run it below: a job runs its script on the plan's node.",
    "run": "The job is queued; its state changes here as it runs.",
    "cancelled": "The job is cancelled (a running job stops once its script has, and the node is told).",
}
EXAMPLE = """function main(plan)
  local node = NewNode(plan.nodeID)
  print("hello from node " .. plan.nodeID)
end
"""


def _notice(ctx: ConsoleContext) -> str | None:
    return NOTICES.get(ctx.request.query_params.get("done", ""))


def _back(ctx: ConsoleContext, path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"{ctx.url}{path}?done={done}", status_code=303)


def _missing(what: str) -> NotFound:
    return NotFound(f"There is no such {what} in this fleet.")


# -- the fleet: nodes, plans, jobs --------------------------------------------------------------------------


async def _board(ctx: ConsoleContext, form: FormState | None = None, status: int = 200) -> Response:
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
        notice=_notice(ctx),
        max_script=MAX_SCRIPT,
    )


@router.get("/")
async def board(ctx: CurrentConsole) -> Response:
    return await _board(ctx)


@router.get("/state")
async def state(ctx: CurrentConsole) -> dict[str, object]:
    """The same state the events carry, once (for scripts and checks)."""
    return await live_state(ctx.session, ctx.runtime, ctx.instance)


# -- one node -----------------------------------------------------------------------------------------------


@router.get("/nodes/{node_id}")
async def node(node_id: str, ctx: CurrentConsole) -> Response:
    try:
        found, points = await NodeService(ctx.session, ctx.runtime, ctx.instance).get(id_of(node_id, "node"))
    except GosdError:
        raise _missing("node") from None
    row = NodeRow(found, points)
    return ctx.render(
        "gosd/node.html",
        title=f"Node {found.name}: {ctx.instance.name}",
        row=row,
        type_name=type_name,
        is_video=is_video,
        plans=[
            p for p, _ in await PlanService(ctx.session, ctx.runtime, ctx.instance).list_all() if p.node_id == found.id
        ],
    )


# -- plans --------------------------------------------------------------------------------------------------


async def _plan(ctx: ConsoleContext, plan_id: str) -> tuple[GosdPlan, dict[str, str]]:
    try:
        return await PlanService(ctx.session, ctx.runtime, ctx.instance).get(id_of(plan_id, "plan"))
    except GosdError:
        raise _missing("plan") from None


@router.post("/plans")
async def create_plan(ctx: CurrentConsole) -> Response:
    form = await read_form(ctx.request)
    state = FormState(values={name: text(form, name) for name in FIELDS})
    source, filename = await script_of(form)
    if not source.strip():
        state.errors["lua"] = "Required: write the script here or choose a .lua file."
    elif (problem := lua_error(source)) is not None:
        state.errors["lua"] = f"The script does not compile: {problem}"
    if filename != "plan.lua":  # from a file: show what it holds, to fix it here
        state.values["lua"] = source.decode(errors="replace")[:MAX_SCRIPT]
    if not state.errors:
        body = Body(
            fields={k: state.values[k] for k in ("name", "description", "node_id")},
            files=[(SCRIPT_KEY, as_upload(source, filename))],
            is_form=True,
        )
        try:
            plan, _ = await PlanService(ctx.session, ctx.runtime, ctx.instance).create(body)
        except GosdError as exc:
            refused(exc, state)
        else:
            return _back(ctx, f"/plans/{plan.id}", "plan")
    raise PageError(await _board(ctx, state, status=400))


async def _script(ctx: ConsoleContext, files: dict[str, str]) -> str | None:
    blob_id = files.get(SCRIPT_KEY)
    if blob_id is None:
        return None
    blobs = BlobService(ctx.session, ctx.runtime, ctx.instance)
    try:
        return (await blobs.read_bytes(await blobs.get(int(blob_id)), MAX_SCRIPT)).decode(errors="replace")
    except GosdError as exc:
        return f"-- {exc.message}"


@router.get("/plans/{plan_id}")
async def plan(plan_id: str, ctx: CurrentConsole) -> Response:
    found, files = await _plan(ctx, plan_id)
    owner = await NodeService(ctx.session, ctx.runtime, ctx.instance).nodes.get_in(ctx.instance.id, found.node_id)
    return ctx.render(
        "gosd/plan.html",
        title=f"Plan {found.name}: {ctx.instance.name}",
        plan=found,
        files=files,
        node=owner,
        script=await _script(ctx, files),
        jobs=await recent_jobs(ctx.session, ctx.instance.id, found.id),
        notice=_notice(ctx),
    )


@router.post("/plans/{plan_id}/run")
async def run_plan(plan_id: str, ctx: CurrentConsole) -> Response:
    found, _ = await _plan(ctx, plan_id)
    job = await JobService(ctx.session, ctx.runtime, ctx.instance).run(found.id, Body(is_form=True))
    return _back(ctx, f"/plans/{found.id}/jobs/{job.job_id}", "run")


# -- jobs ---------------------------------------------------------------------------------------------------


async def _job(ctx: ConsoleContext, plan_id: str, job_id: str) -> tuple[GosdPlan, GosdJob]:
    found, _ = await _plan(ctx, plan_id)
    try:
        job = await JobService(ctx.session, ctx.runtime, ctx.instance).get(found.id, id_of(job_id, "job"))
    except GosdError:
        raise _missing("job") from None
    return found, job


async def _log(ctx: ConsoleContext, job: GosdJob) -> str | None:
    blob_id = (job.files or {}).get(LOG_KEY)
    if blob_id is None:
        return None
    blobs = BlobService(ctx.session, ctx.runtime, ctx.instance)
    data = await blobs.read_bytes(await blobs.get(int(blob_id)), MAX_LOG_SHOWN)
    return data.decode(errors="replace")


@router.get("/plans/{plan_id}/jobs/{job_id}")
async def job(plan_id: str, job_id: str, ctx: CurrentConsole) -> Response:
    found, row = await _job(ctx, plan_id, job_id)
    return ctx.render(
        "gosd/job.html",
        title=f"Job {row.job_id} of {found.name}: {ctx.instance.name}",
        plan=found,
        job=row,
        ended=row.state in TERMINAL,
        log=await _log(ctx, row),
        notice=_notice(ctx),
    )


@router.get("/plans/{plan_id}/jobs/{job_id}/log")
async def job_log(plan_id: str, job_id: str, ctx: CurrentConsole) -> Response:
    _, row = await _job(ctx, plan_id, job_id)
    log = await _log(ctx, row)
    if log is None:
        return Response("No log yet: it is written when the job ends.", status_code=404, media_type="text/plain")
    return Response(log, media_type="text/plain; charset=utf-8", headers={"Cache-Control": "no-cache"})


@router.get("/plans/{plan_id}/jobs/{job_id}/cancel")
async def cancel_confirm(plan_id: str, job_id: str, ctx: CurrentConsole) -> Response:
    found, row = await _job(ctx, plan_id, job_id)
    return ctx.render("gosd/cancel.html", title="Cancel the job", plan=found, job=row, ended=row.state in TERMINAL)


@router.post("/plans/{plan_id}/jobs/{job_id}/cancel")
async def cancel(plan_id: str, job_id: str, ctx: CurrentConsole) -> Response:
    found, row = await _job(ctx, plan_id, job_id)
    await JobService(ctx.session, ctx.runtime, ctx.instance).cancel(found.id, row.job_id)
    return _back(ctx, f"/plans/{found.id}/jobs/{row.job_id}", "cancelled")


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound("No such file.")
    return FileResponse(STATIC_DIR / name, media_type=STATIC[name], headers={"Cache-Control": "no-cache"})
