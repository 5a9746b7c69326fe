"""The dashboard's pages and forms, under /console/gosd/<instance>/: the board, plans and jobs (nodes are in
nodes.py). Every form posts and redirects (or shows itself again with gosd's messages); the live parts
(presence, status, nodes coming and going, job states, video) come from events.py."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from starlette.responses import FileResponse, Response

from mediaplane.console import ConsoleContext, CurrentConsole
from mediaplane.console.deps import read_form, text
from mediaplane.console.errors import PageError
from mediaplane.kit.errors import NotFound
from mediaplane.services.gosd.blobs import BlobService
from mediaplane.services.gosd.console import events, nodes, pages
from mediaplane.services.gosd.console.data import id_of, live_state, recent_jobs
from mediaplane.services.gosd.console.forms import (
    FIELDS,
    FormState,
    LinesError,
    as_upload,
    lua_error,
    read_extra,
    refused,
    script_of,
    tidy,
)
from mediaplane.services.gosd.errors import GosdError
from mediaplane.services.gosd.inputs import Body
from mediaplane.services.gosd.jobs import LOG_KEY, TERMINAL, JobService
from mediaplane.services.gosd.models import GosdJob, GosdPlan
from mediaplane.services.gosd.nodes import NodeService
from mediaplane.services.gosd.plans import PlanService
from mediaplane.services.gosd.runner import MAX_SCRIPT, SCRIPT_KEY

router = APIRouter()
router.include_router(events.router)
router.include_router(nodes.router)
STATIC = {"gosd.js": "text/javascript", "gosd.css": "text/css"}
STATIC_DIR = Path(__file__).parent / "static"
MAX_LOG_SHOWN = 1024 * 1024


# -- the fleet: nodes, plans, jobs --------------------------------------------------------------------------


@router.get("/")
async def board(ctx: CurrentConsole) -> Response:
    return await pages.board(ctx)


@router.get("/state")
async def state(ctx: CurrentConsole) -> dict[str, object]:
    """The same state the events carry, once (for scripts and checks)."""
    return await live_state(ctx.session, ctx.runtime, ctx.instance)


# -- plans --------------------------------------------------------------------------------------------------


async def _plan(ctx: ConsoleContext, plan_id: str) -> tuple[GosdPlan, dict[str, str]]:
    try:
        return await PlanService(ctx.session, ctx.runtime, ctx.instance).get(id_of(plan_id, "plan"))
    except GosdError:
        raise pages.missing("plan") from None


@router.post("/plans")
async def create_plan(ctx: CurrentConsole) -> Response:
    form = await read_form(ctx.request)
    state = FormState(values={name: text(form, name) for name in FIELDS})
    state.values["extra"] = tidy(state.values["extra"])
    source, filename = await script_of(form)
    extra: dict[str, str] = {}
    try:
        extra = read_extra(state.values["extra"])
    except LinesError as exc:
        state.errors["extra"] = str(exc)
    if not source.strip():
        state.errors["lua"] = "Required: write the script here or choose a .lua file."
    elif (problem := lua_error(source)) is not None:
        state.errors["lua"] = f"The script does not compile: {problem}"
    if filename != "plan.lua":  # from a file: show what it holds, to fix it here
        state.values["lua"] = source.decode(errors="replace")[:MAX_SCRIPT]
    if not state.errors:
        body = Body(
            fields={**{k: state.values[k] for k in ("name", "description", "node_id")}, "extra": extra},
            files=[(SCRIPT_KEY, as_upload(source, filename))],
            is_form=True,
        )
        try:
            plan, _ = await PlanService(ctx.session, ctx.runtime, ctx.instance).create(body)
        except GosdError as exc:
            refused(exc, state)
        else:
            return pages.back(ctx, f"/plans/{plan.id}", "plan")
    raise PageError(await pages.board(ctx, state, status=400))


async def _script(ctx: ConsoleContext, files: dict[str, str]) -> str | None:
    blob_id = files.get(SCRIPT_KEY)
    if blob_id is None:
        return None
    blobs = BlobService(ctx.session, ctx.runtime, ctx.instance)
    try:
        return (await blobs.read_bytes(await blobs.get(int(blob_id)), MAX_SCRIPT)).decode(errors="replace")
    except GosdError as exc:
        return f"-- {exc.message}"


async def _plan_page(ctx: ConsoleContext, plan_id: str, run: FormState | None = None, status: int = 200) -> Response:
    found, files = await _plan(ctx, plan_id)
    owner = await NodeService(ctx.session, ctx.runtime, ctx.instance).nodes.get_in(ctx.instance.id, found.node_id)
    jobs = JobService(ctx.session, ctx.runtime, ctx.instance).jobs
    return ctx.render(
        "gosd/plan.html",
        status_code=status,
        title=f"Plan {found.name}: {ctx.instance.name}",
        plan=found,
        files=files,
        node=owner,
        script=await _script(ctx, files),
        jobs=await recent_jobs(ctx.session, ctx.instance.id, found.id),
        active=bool(await jobs.active_of_plan(ctx.instance.id, found.id)),
        run=run or FormState(),
        notice=pages.notice(ctx),
    )


@router.get("/plans/{plan_id}")
async def plan(plan_id: str, ctx: CurrentConsole) -> Response:
    return await _plan_page(ctx, plan_id)


@router.post("/plans/{plan_id}/run")
async def run_plan(plan_id: str, ctx: CurrentConsole) -> Response:
    """As `mediaplane gosd run NAME PLAN -e KEY=VALUE`: a job on the plan's node, with its own extra."""
    found, _ = await _plan(ctx, plan_id)
    state = FormState(values={"extra": tidy(text(await read_form(ctx.request), "extra"))})
    try:
        extra = read_extra(state.values["extra"])
        job = await JobService(ctx.session, ctx.runtime, ctx.instance).run(found.id, Body(fields={"extra": extra}))
    except LinesError as exc:
        state.errors["extra"] = str(exc)
    except GosdError as exc:
        refused(exc, state, ("extra",))
    else:
        return pages.back(ctx, f"/plans/{found.id}/jobs/{job.job_id}", "run")
    raise PageError(await _plan_page(ctx, plan_id, state, status=400))


@router.get("/plans/{plan_id}/cancel")
async def cancel_all_confirm(plan_id: str, ctx: CurrentConsole) -> Response:
    found, _ = await _plan(ctx, plan_id)
    jobs = await JobService(ctx.session, ctx.runtime, ctx.instance).jobs.active_of_plan(ctx.instance.id, found.id)
    return ctx.render("gosd/cancel_all.html", title="Cancel the plan's jobs", plan=found, jobs=jobs)


@router.post("/plans/{plan_id}/cancel")
async def cancel_all(plan_id: str, ctx: CurrentConsole) -> Response:
    """As `mediaplane gosd cancel NAME PLAN`: every queued and running job of the plan."""
    found, _ = await _plan(ctx, plan_id)
    await JobService(ctx.session, ctx.runtime, ctx.instance).cancel(found.id)
    return pages.back(ctx, f"/plans/{found.id}", "cancelled-all")


# -- jobs ---------------------------------------------------------------------------------------------------


async def _job(ctx: ConsoleContext, plan_id: str, job_id: str) -> tuple[GosdPlan, GosdJob]:
    found, _ = await _plan(ctx, plan_id)
    try:
        job = await JobService(ctx.session, ctx.runtime, ctx.instance).get(found.id, id_of(job_id, "job"))
    except GosdError:
        raise pages.missing("job") from None
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
        notice=pages.notice(ctx),
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
    return pages.back(ctx, f"/plans/{found.id}/jobs/{row.job_id}", "cancelled")


@router.get("/static/{name}")
async def static(name: str) -> Response:
    if name not in STATIC:
        raise NotFound("No such file.")
    return FileResponse(STATIC_DIR / name, media_type=STATIC[name], headers={"Cache-Control": "no-cache"})
