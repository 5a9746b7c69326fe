"""Instances of every service: list, describe (URL, resources, docs, health, logs), edit their options, restart,
remove after a confirmation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import RedirectResponse, Response

from mediaplane.console.auth import SignedIn
from mediaplane.console.deps import SignedInDep, TemplatesDep, read_form
from mediaplane.console.errors import PageError
from mediaplane.console.forms import InstanceForm, options_form, parse_options_form
from mediaplane.console.render import Templates
from mediaplane.console.routes import notice, plain
from mediaplane.console.routes.catalog import service_of
from mediaplane.console.security import console_root
from mediaplane.core.catalog import ServiceSpec
from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.instance.models import Instance
from mediaplane.core.instance.schemas import SECRET_MASK, instance_object
from mediaplane.core.instance.service import instance_service
from mediaplane.core.runtime import Runtime
from mediaplane.core.urls import base_url
from mediaplane.kit.errors import MediaplaneError, NotFound

router = APIRouter()
LOG_LINES = 200
SHOWN_FIELDS = ("name", "url", "status", "created", "resources", "_links")


async def all_instances(
    session: AsyncSession, runtime: Runtime, signed: SignedIn
) -> list[tuple[ServiceSpec, Instance]]:
    found = []
    for spec in runtime.registry:
        for instance in await instance_service.list_instances(session, spec, signed.principal):
            found.append((spec, instance))
    found.sort(key=lambda pair: pair[1].created_at, reverse=True)
    return found


async def instance_of(
    session: AsyncSession, runtime: Runtime, signed: SignedIn, service_id: str, name: str
) -> tuple[ServiceSpec, Instance]:
    """The signed-in tenant's instance; any other tenant's is as missing as one that never was."""
    spec = service_of(runtime, service_id)
    if not plain(name):
        raise NotFound(f"No instance named {name}")
    return spec, await instance_service.get(session, spec, signed.principal, name)


def _option_rows(spec: ServiceSpec, shown: dict[str, Any]) -> list[tuple[str, Any, bool]]:
    """(label, value, masked) for each option the instance has; secrets arrive masked."""
    rows = []
    for key, value in shown.items():
        if key in SHOWN_FIELDS:
            continue
        option = spec.option(key)
        rows.append((option.label if option else key, value, value == SECRET_MASK))
    return rows


@router.get("/instances")
async def instances(
    request: Request, signed: SignedInDep, session: SessionDep, runtime: RuntimeDep, templates: TemplatesDep
) -> Response:
    rows = await all_instances(session, runtime, signed)
    return templates.render(
        request,
        "instances.html",
        signed=signed,
        nav="instances",
        title="Instances",
        rows=rows,
        notice=notice(request),
    )


@router.get("/instances/{service_id}/{name}")
async def describe(
    service_id: str,
    name: str,
    request: Request,
    signed: SignedInDep,
    session: SessionDep,
    runtime: RuntimeDep,
    templates: TemplatesDep,
) -> Response:
    spec, instance = await instance_of(session, runtime, signed, service_id, name)
    shown: dict[str, Any] = instance_object(runtime.settings, base_url(runtime.settings, request), spec, instance)
    options = _option_rows(spec, shown)
    health = await instance_service.health(session, runtime, spec, instance)
    logs = await instance_service.logs(session, instance, timestamps=True)
    dashboards = request.app.state.dashboards
    return templates.render(
        request,
        "instance.html",
        signed=signed,
        nav="instances",
        title=f"{instance.name} ({spec.title})",
        spec=spec,
        instance=instance,
        url=shown["url"],
        resources=shown["resources"],
        options=options,
        health=health,
        logs=logs[-LOG_LINES:],
        dashboard=dashboards.get(spec.id),
        notice=notice(request),
    )


@router.post("/instances/{service_id}/{name}/restart")
async def restart(
    service_id: str, name: str, request: Request, signed: SignedInDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    """What `mediaplane restart` and the API's restart do: the service's own restart of the instance."""
    spec, instance = await instance_of(session, runtime, signed, service_id, name)
    await instance_service.restart(session, runtime, spec, instance)
    page = f"{console_root(request)}/instances/{spec.id}/{instance.name}"
    return RedirectResponse(f"{page}?done=restarted", status_code=303)


def _options_page(
    request: Request,
    templates: Templates,
    signed: SignedIn,
    spec: ServiceSpec,
    instance: Instance,
    form: InstanceForm,
    status_code: int = 200,
) -> Response:
    return templates.render(
        request,
        "instance_options.html",
        status_code=status_code,
        signed=signed,
        nav="instances",
        title=f"Options of {instance.name}",
        spec=spec,
        instance=instance,
        form=form,
    )


@router.get("/instances/{service_id}/{name}/options")
async def options(
    service_id: str,
    name: str,
    request: Request,
    signed: SignedInDep,
    session: SessionDep,
    runtime: RuntimeDep,
    templates: TemplatesDep,
) -> Response:
    spec, instance = await instance_of(session, runtime, signed, service_id, name)
    return _options_page(request, templates, signed, spec, instance, options_form(spec, instance.options))


@router.post("/instances/{service_id}/{name}/options")
async def update_options(
    service_id: str,
    name: str,
    request: Request,
    signed: SignedInDep,
    session: SessionDep,
    runtime: RuntimeDep,
    templates: TemplatesDep,
) -> Response:
    """What `PATCH /<serviceId>instance/<name>` does (the eyeson CLI's `rotate-key` is one)."""
    spec, instance = await instance_of(session, runtime, signed, service_id, name)
    form, changes = parse_options_form(spec, await read_form(request), instance.options)
    if not form.valid:
        return _options_page(request, templates, signed, spec, instance, form, 400)
    try:
        await instance_service.update(session, runtime, spec, instance, changes)
    except MediaplaneError as exc:
        # Raised, so that the new options and whatever the service's hook wrote are rolled back.
        form.message = exc.message
        raise PageError(_options_page(request, templates, signed, spec, instance, form, exc.status_code)) from None
    renewed = [
        (o.name, o.label or o.name, instance.options.get(o.name))
        for o in spec.options
        if o.secret and o.generate is not None and o.name in changes and changes[o.name] is None
    ]
    if renewed:  # new secrets: shown here, once (a page of its own, so they are in no URL)
        return templates.render(
            request,
            "instance_options_saved.html",
            signed=signed,
            nav="instances",
            title=f"Options of {instance.name} saved",
            spec=spec,
            instance=instance,
            once=renewed,
        )
    page = f"{console_root(request)}/instances/{spec.id}/{instance.name}"
    return RedirectResponse(f"{page}?done=updated", status_code=303)


@router.get("/instances/{service_id}/{name}/remove")
async def confirm_remove(
    service_id: str,
    name: str,
    request: Request,
    signed: SignedInDep,
    session: SessionDep,
    runtime: RuntimeDep,
    templates: TemplatesDep,
) -> Response:
    spec, instance = await instance_of(session, runtime, signed, service_id, name)
    return templates.render(
        request,
        "instance_remove.html",
        signed=signed,
        nav="instances",
        title=f"Remove {instance.name}?",
        spec=spec,
        instance=instance,
    )


@router.post("/instances/{service_id}/{name}/remove")
async def remove(
    service_id: str, name: str, request: Request, signed: SignedInDep, session: SessionDep, runtime: RuntimeDep
) -> Response:
    spec, instance = await instance_of(session, runtime, signed, service_id, name)
    await instance_service.delete(session, runtime, spec, instance)
    return RedirectResponse(f"{console_root(request)}/instances?done=removed", status_code=303)
