"""Jobs of a plan: run (`POST …/jobs/`), list, and every cancel gosd's spec and code have known (upstream
§2.2): `POST …/jobs/:job_id/cancel`, `POST …/jobs/cancel`, `DELETE …/jobs/running`, `DELETE …/running`.
A cancel answers `[]` as gosd's does. One job, its log and the running job are additions in the same style;
`/api/v1/plans/:id/plan_logs/` and `/logs/` are gosd v1's names for the list and the run."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import PlainTextResponse

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.services.gosd import schemas
from mediaplane.services.gosd.blobs import BlobService
from mediaplane.services.gosd.deps import GosdInstance, current_user
from mediaplane.services.gosd.errors import not_found
from mediaplane.services.gosd.inputs import request_body
from mediaplane.services.gosd.jobs import LOG_KEY, JobService
from mediaplane.services.gosd.routes import PREFIX

router = APIRouter(prefix=f"{PREFIX}/api", tags=["jobs"], dependencies=[Depends(current_user)])
PlanId = Annotated[int, Path(ge=1, le=2**63 - 1)]
JobId = Annotated[int, Path(ge=1, le=2**63 - 1)]
MAX_LOG_SHOWN = 4 * 1024 * 1024


def job_service(instance: GosdInstance, session: SessionDep, runtime: RuntimeDep) -> JobService:
    return JobService(session, runtime, instance)


Jobs = Annotated[JobService, Depends(job_service)]


async def _run(plan_id: int, request: Request, jobs: JobService) -> dict[str, Any]:
    async with request_body(request) as body:
        return schemas.job(await jobs.run(plan_id, body))


@router.post("/v2/plans/{plan_id}/jobs", status_code=201, summary="Run the plan: a new job")
async def run_plan(plan_id: PlanId, request: Request, jobs: Jobs) -> dict[str, Any]:
    return await _run(plan_id, request, jobs)


@router.post("/v2/plans/{plan_id}/running", status_code=201, summary="Run the plan (gosd's other name)")
async def run_plan_running(plan_id: PlanId, request: Request, jobs: Jobs) -> dict[str, Any]:
    return await _run(plan_id, request, jobs)


@router.post("/v1/plans/{plan_id}/plan_logs", status_code=201, summary="Run the plan (gosd v1)", deprecated=True)
@router.post("/v1/plans/{plan_id}/logs", status_code=201, summary="Run the plan (gosd v1)", deprecated=True)
async def run_plan_v1(plan_id: PlanId, request: Request, jobs: Jobs) -> dict[str, Any]:
    return await _run(plan_id, request, jobs)


@router.get("/v2/plans/{plan_id}/jobs", summary="The plan's jobs, by job_id")
@router.get("/v1/plans/{plan_id}/plan_logs", summary="The plan's jobs (gosd v1)", deprecated=True)
@router.get("/v1/plans/{plan_id}/logs", summary="The plan's jobs (gosd v1)", deprecated=True)
async def list_jobs(plan_id: PlanId, jobs: Jobs) -> list[dict[str, Any]]:
    return [schemas.job(j) for j in await jobs.of_plan(plan_id)]


@router.get("/v2/plans/{plan_id}/running", summary="The plan's running job, or {}")
async def running_job(plan_id: PlanId, jobs: Jobs) -> dict[str, Any]:
    job = await jobs.running(plan_id)
    return schemas.job(job) if job is not None else {}


@router.post("/v2/plans/{plan_id}/jobs/cancel", summary="Cancel the plan's queued and running jobs")
@router.delete("/v2/plans/{plan_id}/jobs/running", summary="Cancel the plan's jobs (gosd's older form)")
@router.delete("/v2/plans/{plan_id}/running", summary="Cancel the plan's jobs (gosd's other form)")
async def cancel_plan_jobs(plan_id: PlanId, jobs: Jobs) -> list[Any]:
    await jobs.cancel(plan_id)
    return []


@router.post("/v2/plans/{plan_id}/jobs/{job_id}/cancel", summary="Cancel one job")
async def cancel_job(plan_id: PlanId, job_id: JobId, jobs: Jobs) -> list[Any]:
    await jobs.cancel(plan_id, job_id)
    return []


@router.get("/v2/plans/{plan_id}/jobs/{job_id}", summary="One job, with its state")
async def get_job(plan_id: PlanId, job_id: JobId, jobs: Jobs) -> dict[str, Any]:
    return schemas.job(await jobs.get(plan_id, job_id))


@router.get("/v2/plans/{plan_id}/jobs/{job_id}/log", summary="The job's script log (text), once it has ended")
async def job_log(plan_id: PlanId, job_id: JobId, jobs: Jobs) -> PlainTextResponse:
    job = await jobs.get(plan_id, job_id)
    blob_id = (job.files or {}).get(LOG_KEY)
    if blob_id is None:
        raise not_found(f"Job {job_id} has no log yet (state {job.state}): it is written when the job ends")
    blobs = BlobService(jobs.session, jobs.runtime, jobs.instance)
    blob = await blobs.get(int(blob_id))
    data = await blobs.read_bytes(blob, MAX_LOG_SHOWN)
    return PlainTextResponse(data.decode(errors="replace"))
