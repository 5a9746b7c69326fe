"""The per-service instance API, OSC's shape: {base}/{serviceId}instance[/{name}[/health|logs|ports|restart]]."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Body, Query, Request, Response, status
from fastapi.responses import PlainTextResponse

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.instance.deps import CurrentCaller
from mediaplane.core.instance.schemas import instance_object
from mediaplane.core.instance.service import instance_service
from mediaplane.core.urls import base_url

router = APIRouter(tags=["instances"])
PREFIX = "/{service_id}instance"


def _render(
    request: Request, runtime: RuntimeDep, caller: CurrentCaller, instance: Any, *, reveal_secrets: bool = False
) -> dict[str, Any]:
    base = base_url(runtime.settings, request)
    return instance_object(runtime.settings, base, caller.spec, instance, reveal_secrets=reveal_secrets)


@router.post(PREFIX, summary="Create an instance")
async def create_instance(
    request: Request,
    caller: CurrentCaller,
    session: SessionDep,
    runtime: RuntimeDep,
    body: dict[str, Any] = Body(..., examples=[{"name": "test"}]),
) -> dict[str, Any]:
    instance = await instance_service.create(session, runtime, caller.spec, caller.principal, body)
    return _render(request, runtime, caller, instance, reveal_secrets=True)


@router.get(PREFIX, summary="List the caller's instances of this service")
async def list_instances(
    request: Request, caller: CurrentCaller, session: SessionDep, runtime: RuntimeDep
) -> list[dict[str, Any]]:
    instances = await instance_service.list_instances(session, caller.spec, caller.principal)
    return [_render(request, runtime, caller, i) for i in instances]


@router.get(PREFIX + "/{name}", summary="Describe an instance")
async def get_instance(
    name: str, request: Request, caller: CurrentCaller, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    instance = await instance_service.get(session, caller.spec, caller.principal, name)
    return _render(request, runtime, caller, instance)


@router.patch(PREFIX + "/{name}", summary="Change an instance's options")
async def update_instance(
    name: str,
    request: Request,
    caller: CurrentCaller,
    session: SessionDep,
    runtime: RuntimeDep,
    body: dict[str, Any] = Body(...),
) -> dict[str, Any]:
    instance = await instance_service.get(session, caller.spec, caller.principal, name)
    instance = await instance_service.update(session, runtime, caller.spec, instance, body)
    return _render(request, runtime, caller, instance)


@router.delete(PREFIX + "/{name}", status_code=status.HTTP_204_NO_CONTENT, summary="Remove an instance")
async def delete_instance(name: str, caller: CurrentCaller, session: SessionDep, runtime: RuntimeDep) -> Response:
    instance = await instance_service.get(session, caller.spec, caller.principal, name)
    await instance_service.delete(session, runtime, caller.spec, instance)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get(PREFIX + "/{name}/health", summary="Instance health")
async def instance_health(name: str, caller: CurrentCaller, session: SessionDep, runtime: RuntimeDep) -> dict[str, str]:
    instance = await instance_service.get(session, caller.spec, caller.principal, name)
    return {"status": await instance_service.health(session, runtime, caller.spec, instance)}


@router.get(PREFIX + "/{name}/logs", response_class=PlainTextResponse, summary="Instance logs")
async def instance_logs(
    name: str,
    caller: CurrentCaller,
    session: SessionDep,
    runtime: RuntimeDep,
    timestamps: bool = Query(False),
    sinceSeconds: int | None = Query(None, ge=0),
) -> PlainTextResponse:
    instance = await instance_service.get(session, caller.spec, caller.principal, name)
    since = runtime.clock.now() - timedelta(seconds=sinceSeconds) if sinceSeconds is not None else None
    lines = await instance_service.logs(session, instance, since=since, timestamps=timestamps)
    return PlainTextResponse("\n".join(lines) + ("\n" if lines else ""))


@router.get(PREFIX + "/{name}/ports", summary="Network ports the instance listens on")
async def instance_ports(
    name: str, caller: CurrentCaller, session: SessionDep, runtime: RuntimeDep
) -> list[dict[str, Any]]:
    instance = await instance_service.get(session, caller.spec, caller.principal, name)
    ctx = instance_service.context(session, runtime, instance)
    return await caller.spec.hooks.ports(ctx)


@router.post(PREFIX + "/{name}/restart", status_code=status.HTTP_204_NO_CONTENT, summary="Restart an instance")
async def restart_instance(name: str, caller: CurrentCaller, session: SessionDep, runtime: RuntimeDep) -> Response:
    instance = await instance_service.get(session, caller.spec, caller.principal, name)
    await instance_service.restart(session, runtime, caller.spec, instance)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
