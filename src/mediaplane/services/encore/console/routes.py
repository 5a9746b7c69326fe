"""The dashboard's job pages (mounted by the console at `/console/encore/<instance name>/`) and their live updates;
the profiles and files pages are in `profiles` and `files`."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import FileResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from mediaplane.console import ConsoleContext, CurrentConsole
from mediaplane.kit.errors import MediaplaneError, NotFound
from mediaplane.services.encore.console import files, profiles
from mediaplane.services.encore.console.forms import INPUT_TYPES, PACKAGES, EnqueueForm
from mediaplane.services.encore.console.views import (
    file_url,
    live_state,
    output_views,
    player_sources,
    status_label,
)
from mediaplane.services.encore.locations import instance_area
from mediaplane.services.encore.options import EncoreOptions
from mediaplane.services.encore.profiles.loader import list_profiles
from mediaplane.services.encore.repository import EncoreJobRepository, job_of
from mediaplane.services.encore.service import CANCELLABLE, EncoreJobService
from mediaplane.services.encore.status import Status

router = APIRouter()
router.include_router(files.router)
router.include_router(profiles.router)
STATIC = Path(__file__).parent / "static"
PAGE_SIZE = 25
POLL_SECONDS = 1.0
STREAM_SECONDS = 300  # a stream ends now and then; EventSource opens a new one by itself
KEEPALIVE_SECONDS = 15
PROFILE_LIST_SECONDS = 3
NOTICES = {
    "enqueued": "The job is queued. Its progress shows here as it runs.",
    "cancelled": "The job is cancelled.",
}


def _status_filter(request: Request) -> str | None:
    value = request.query_params.get("status", "")
    return value if value in Status.__members__ else None


def _page_number(request: Request) -> int:
    value = request.query_params.get("page", "")
    return min(int(value), 10_000) if value.isdigit() else 0


def _job_id(job_id: str) -> str:
    try:
        return str(uuid.UUID(job_id))
    except ValueError:
        raise NotFound("There is no such job in this instance.") from None


def _list_state(ctx: ConsoleContext, rows: Any) -> list[dict[str, Any]]:
    return [
        {
            **live_state(row),
            "name": row.base_name,
            "profile": row.profile,
            "created": row.created.strftime("%Y-%m-%d %H:%M:%S"),
            "href": f"{ctx.url}/jobs/{row.id}",
        }
        for row in rows
    ]


async def _jobs_page(ctx: ConsoleContext, session: AsyncSession, status: str | None, number: int) -> Any:
    where = {"status": status} if status else {}
    sort = [("createdDate", True)]
    return await EncoreJobRepository(session).page(
        ctx.instance.id, number=number, size=PAGE_SIZE, sort=sort, where=where
    )


@router.get("/")
async def jobs(ctx: CurrentConsole) -> Response:
    status, number = _status_filter(ctx.request), _page_number(ctx.request)
    page = await _jobs_page(ctx, ctx.session, status, number)
    await EncoreJobService(ctx.session, ctx.runtime, ctx.instance).settle(page.rows)
    filters = [("", "All")] + [(s.value, status_label(s.value).capitalize()) for s in Status if s != Status.NEW]
    query = f"?status={status}" if status else ""
    return ctx.render(
        "encore/jobs.html",
        title=f"Jobs: {ctx.instance.name}",
        jobs=_list_state(ctx, page.rows),
        total=page.total,
        number=number,
        pages=max(1, -(-page.total // PAGE_SIZE)),
        status=status or "",
        filters=filters,
        events=f"{ctx.url}/events?status={status or ''}&page={number}",
        query=query,
        notice=NOTICES.get(ctx.request.query_params.get("done", "")),
    )


def _event_stream(
    request: Request, ctx: ConsoleContext, snapshot: Callable[[AsyncSession], Awaitable[Any]]
) -> StreamingResponse:
    """Server-sent events: the snapshot about once a second when it changed, until the client goes."""
    runtime = ctx.runtime

    async def events() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        last, quiet_since = "", time.monotonic()
        ends = time.monotonic() + STREAM_SECONDS
        while time.monotonic() < ends and not await request.is_disconnected():
            async with runtime.db.session() as session:
                text = json.dumps(await snapshot(session), separators=(",", ":"))
            if text != last:
                last, quiet_since = text, time.monotonic()
                yield f"data: {text}\n\n"
            elif time.monotonic() - quiet_since > KEEPALIVE_SECONDS:
                quiet_since = time.monotonic()
                yield ": still here\n\n"
            await asyncio.sleep(POLL_SECONDS)

    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events(), media_type="text/event-stream", headers=headers)


@router.get("/events")
async def jobs_events(ctx: CurrentConsole) -> StreamingResponse:
    status, number = _status_filter(ctx.request), _page_number(ctx.request)

    async def snapshot(session: AsyncSession) -> Any:
        page = await _jobs_page(ctx, session, status, number)
        return {"jobs": _list_state(ctx, page.rows), "total": page.total}

    return _event_stream(ctx.request, ctx, snapshot)


async def _profiles(ctx: ConsoleContext) -> list[str]:
    """The instance's profile names, for suggestions; none when the index cannot be read quickly."""
    try:
        async with asyncio.timeout(PROFILE_LIST_SECONDS):
            return sorted(await list_profiles(EncoreOptions.of(ctx.instance.options).profiles_url))
    except (MediaplaneError, TimeoutError, OSError, ValueError):
        return []


async def _form_page(
    ctx: ConsoleContext, form: EnqueueForm, profiles: list[str] | None = None, status_code: int = 200
) -> Response:
    return ctx.render(
        "encore/enqueue.html",
        status_code=status_code,
        title=f"Enqueue a job: {ctx.instance.name}",
        form=form,
        profiles=await _profiles(ctx) if profiles is None else profiles,
        input_types=INPUT_TYPES,
        package_formats=PACKAGES,
    )


@router.get("/new")
async def new_job(ctx: CurrentConsole) -> Response:
    """The form, filled in from the profiles and files pages' links (`?profile=`, `?input_uri=&input_type=`)."""
    return await _form_page(ctx, EnqueueForm.prefilled(ctx.request.query_params))


@router.post("/jobs")
async def enqueue(ctx: CurrentConsole) -> Response:
    form = EnqueueForm.read(await ctx.request.form())
    profiles = await _profiles(ctx)
    body = await form.check(instance_area(ctx.runtime.storage, ctx.instance.id), profiles)
    if body is None:
        return await _form_page(ctx, form, profiles, status_code=400)
    row = await EncoreJobService(ctx.session, ctx.runtime, ctx.instance).create(body)
    return RedirectResponse(f"{ctx.url}/jobs/{row.id}?done=enqueued", status_code=303)


@router.get("/jobs/{job_id}")
async def job_page(job_id: str, ctx: CurrentConsole) -> Response:
    row = await EncoreJobService(ctx.session, ctx.runtime, ctx.instance).get(_job_id(job_id))
    job = job_of(row)
    outputs = output_views(job, ctx.url)
    sources = player_sources(job, outputs, ctx.url)
    return ctx.render(
        "encore/job.html",
        title=f"Job {job.base_name}: {ctx.instance.name}",
        job=job,
        state=live_state(row),
        outputs=outputs,
        sources=sources,
        kinds={s.kind for s in sources},
        events=f"{ctx.url}/jobs/{row.id}/events",
        file_link=lambda uri: _file_link(ctx, uri),
        notice=NOTICES.get(ctx.request.query_params.get("done", "")),
    )


def _file_link(ctx: ConsoleContext, uri: str | None) -> str | None:
    return file_url(ctx.url, uri)


@router.get("/jobs/{job_id}/json")
async def job_json(job_id: str, ctx: CurrentConsole) -> JSONResponse:
    """The whole job as the API's `GET …/encoreJobs/<id>` answers it (and `mediaplane encore get --json` shows it)."""
    row = await EncoreJobService(ctx.session, ctx.runtime, ctx.instance).get(_job_id(job_id))
    return JSONResponse(row.data)


@router.get("/jobs/{job_id}/events")
async def job_events(job_id: str, ctx: CurrentConsole) -> StreamingResponse:
    row = await EncoreJobService(ctx.session, ctx.runtime, ctx.instance).get(_job_id(job_id))
    wanted = row.id

    async def snapshot(session: AsyncSession) -> Any:
        found = await EncoreJobRepository(session).get_in(ctx.instance.id, wanted)
        return {"jobs": [live_state(found)] if found else []}

    return _event_stream(ctx.request, ctx, snapshot)


@router.get("/jobs/{job_id}/cancel")
async def cancel_confirm(job_id: str, ctx: CurrentConsole) -> Response:
    row = await EncoreJobService(ctx.session, ctx.runtime, ctx.instance).get(_job_id(job_id))
    return ctx.render(
        "encore/cancel.html",
        title=f"Cancel job {row.base_name}",
        job=job_of(row),
        cancellable=Status(row.status) in (*CANCELLABLE, Status.IN_PROGRESS),
    )


@router.post("/jobs/{job_id}/cancel")
async def cancel(job_id: str, ctx: CurrentConsole) -> Response:
    await EncoreJobService(ctx.session, ctx.runtime, ctx.instance).cancel(_job_id(job_id))
    return RedirectResponse(f"{ctx.url}/jobs/{job_id}?done=cancelled", status_code=303)


ASSETS = {"encore.js": "text/javascript", "encore.css": "text/css"}


@router.get("/assets/{name}")
async def asset(name: str, ctx: CurrentConsole) -> Response:
    """The dashboard's script and style sheet (the console's policy allows only files of this origin)."""
    if name not in ASSETS:
        raise NotFound("There is no such file.")
    return FileResponse(STATIC / name, media_type=ASSETS[name], headers={"Cache-Control": "no-cache"})
