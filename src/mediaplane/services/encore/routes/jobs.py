"""`/encoreJobs`: Encore's job resource, as 0.2.11 (Spring Data REST) and 1.0 serve it."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.instance.access import CurrentInstance, current_instance
from mediaplane.kit.errors import BadRequest, NotFound
from mediaplane.services.encore.hal import (
    DEFAULT_SIZE,
    MAX_PAGE,
    MAX_SIZE,
    base,
    hal,
    job_entity,
    page_body,
    parse_sort,
)
from mediaplane.services.encore.repository import EncoreJobRepository
from mediaplane.services.encore.schemas.job import EncoreJob, Status
from mediaplane.services.encore.service import EncoreJobService

router = APIRouter(dependencies=[Depends(current_instance)], tags=["encoreJobs"])
SEARCHES = {
    "findByStatus": "status",
    "findByExternalId": "externalId",
    "findByProfile": "profile",
    "findByBaseName": "baseName",
}
JOB_SCHEMA = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/EncoreJob"}}}}


class Paging:
    def __init__(
        self,
        page: Annotated[int, Query(ge=0, le=MAX_PAGE, description="Page number, from 0")] = 0,
        size: Annotated[int, Query(ge=1, le=MAX_SIZE, description="Page size")] = DEFAULT_SIZE,
        sort: Annotated[list[str] | None, Query(description="property,(asc|desc); repeatable")] = None,
    ) -> None:
        self.page, self.size, self.sort = page, size, parse_sort(sort or [])


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object; JSON errors answer 400 like Spring's `JSON parse error`."""
    raw = await request.body()
    try:
        value = json.loads(raw or b"null")
    except ValueError as exc:
        raise BadRequest(f"JSON parse error: {exc}") from None
    if not isinstance(value, dict):
        raise BadRequest("JSON parse error: the body must be a JSON object (an EncoreJob)")
    return value


def _job_id(job_id: str) -> str:
    try:
        return str(uuid.UUID(job_id))
    except ValueError:
        raise BadRequest(f"Invalid job id {job_id!r}: not a UUID") from None


@router.post(
    "/encoreJobs",
    status_code=201,
    summary="Enqueue a job",
    openapi_extra={"requestBody": {"required": True, **JOB_SCHEMA}},
    responses={201: {"description": "Created, as application/hal+json"}},
)
async def create_job(request: Request, instance: CurrentInstance, session: SessionDep, runtime: RuntimeDep) -> Any:
    payload = await json_object(request)
    row = await EncoreJobService(session, runtime, instance).create(payload)
    entity = job_entity(row, request)
    return hal(entity, 201, headers={"Location": entity["_links"]["self"]["href"]})


@router.get("/encoreJobs", summary="List jobs (HAL, paged)")
async def list_jobs(
    request: Request, instance: CurrentInstance, session: SessionDep, runtime: RuntimeDep, paging: Paging = Depends()
) -> Any:
    return await _page(request, instance, session, runtime, paging, "encoreJobs", {})


@router.get("/encoreJobs/search", summary="Search links")
async def search_links(request: Request) -> Any:
    url = f"{base(request)}encoreJobs/search"
    links = {
        name: {"href": f"{url}/{name}{{?{field},page,size,sort}}", "templated": True}
        for name, field in SEARCHES.items()
    }
    return hal({"_links": {**links, "self": {"href": url}}})


@router.get("/encoreJobs/search/{search}", summary="findByStatus, findByExternalId, findByProfile, findByBaseName")
async def search_jobs(
    search: str,
    request: Request,
    instance: CurrentInstance,
    session: SessionDep,
    runtime: RuntimeDep,
    paging: Paging = Depends(),
) -> Any:
    field = SEARCHES.get(search)
    if field is None:
        raise NotFound(f"No search {search}; searches: {', '.join(SEARCHES)}")
    value = request.query_params.get(field)
    if value is None:
        raise BadRequest(f"Query parameter {field} is required")
    if field == "status" and value not in Status.__members__:
        raise BadRequest(f"Unknown status {value!r}; one of {', '.join(Status.__members__)}")
    return await _page(request, instance, session, runtime, paging, f"encoreJobs/search/{search}", {field: value})


async def _page(
    request: Request,
    instance: CurrentInstance,
    session: SessionDep,
    runtime: RuntimeDep,
    paging: Paging,
    path: str,
    where: dict[str, str],
) -> JSONResponse:
    page = await EncoreJobRepository(session).page(
        instance.id, number=paging.page, size=paging.size, sort=paging.sort, where=where
    )
    await EncoreJobService(session, runtime, instance).settle(page.rows)
    query = {**where, **{"sort": ",".join(f"{n},{'desc' if d else 'asc'}" for n, d in paging.sort)}}
    return hal(page_body(page, request, path, {k: v for k, v in query.items() if v}))


@router.get("/encoreJobs/{job_id}", summary="One job")
async def get_job(
    job_id: str, request: Request, instance: CurrentInstance, session: SessionDep, runtime: RuntimeDep
) -> Any:
    row = await EncoreJobService(session, runtime, instance).get(_job_id(job_id))
    return hal(job_entity(row, request))


@router.put(
    "/encoreJobs/{job_id}",
    summary="Replace a job's writable fields (creates it when new)",
    openapi_extra={"requestBody": {"required": True, **JOB_SCHEMA}},
)
async def replace_job(
    job_id: str, request: Request, instance: CurrentInstance, session: SessionDep, runtime: RuntimeDep
) -> Any:
    payload = await json_object(request)
    row, created = await EncoreJobService(session, runtime, instance).replace(_job_id(job_id), payload)
    return hal(job_entity(row, request), 201 if created else 200)


@router.patch(
    "/encoreJobs/{job_id}",
    summary="Change some writable fields of a job",
    openapi_extra={"requestBody": {"required": True, **JOB_SCHEMA}},
)
async def patch_job(
    job_id: str, request: Request, instance: CurrentInstance, session: SessionDep, runtime: RuntimeDep
) -> Any:
    payload = await json_object(request)
    row = await EncoreJobService(session, runtime, instance).patch(_job_id(job_id), payload)
    return hal(job_entity(row, request))


@router.delete("/encoreJobs/{job_id}", status_code=204, summary="Delete a job (a running one is cancelled)")
async def delete_job(job_id: str, instance: CurrentInstance, session: SessionDep, runtime: RuntimeDep) -> Response:
    await EncoreJobService(session, runtime, instance).delete(_job_id(job_id))
    return Response(status_code=204)


@router.post("/encoreJobs/{job_id}/cancel", summary="Cancel a job", response_class=PlainTextResponse)
async def cancel_job(job_id: str, instance: CurrentInstance, session: SessionDep, runtime: RuntimeDep) -> Any:
    await EncoreJobService(session, runtime, instance).cancel(_job_id(job_id))
    return PlainTextResponse("Ok")


def job_schema_component() -> dict[str, Any]:
    """EncoreJob's JSON schema for the OpenAPI document (the body is read raw so errors keep Encore's shape)."""
    return EncoreJob.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
