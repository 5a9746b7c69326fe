"""Instances of every service: list, describe (URL, resources, docs, health, logs), edit their options, restart,
remove after a confirmation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
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


@dataclass(frozen=True)
class InstancePage:
    """What every page of one instance works with: the signed-in tenant's instance (any other tenant's is as
    missing as one that never was) and how to render and answer."""

    request: Request
    signed: SignedIn
    session: AsyncSession
    runtime: Runtime
    templates: Templates
    spec: ServiceSpec
    instance: Instance

    def render(self, template: str, title: str, status_code: int = 200, **values: Any) -> Response:
        return self.templates.render(
            self.request,
            template,
            status_code=status_code,
            signed=self.signed,
            nav="instances",
            title=title,
            spec=self.spec,
            instance=self.instance,
            **values,
        )

    def back(self, done: str, *, to_list: bool = False) -> Response:
        root = f"{console_root(self.request)}/instances"
        page = root if to_list else f"{root}/{self.spec.id}/{self.instance.name}"
        return RedirectResponse(f"{page}?done={done}", status_code=303)


async def _instance_page(
    service_id: str,
    name: str,
    request: Request,
    signed: SignedInDep,
    session: SessionDep,
    runtime: RuntimeDep,
    templates: TemplatesDep,
) -> InstancePage:
    spec = service_of(runtime, service_id)
    if not plain(name):
        raise NotFound(f"No instance named {name}")
    instance = await instance_service.get(session, spec, signed.principal, name)
    return InstancePage(request, signed, session, runtime, templates, spec, instance)


InstanceDep = Annotated[InstancePage, Depends(_instance_page)]


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
async def describe(page: InstanceDep) -> Response:
    spec, instance, runtime = page.spec, page.instance, page.runtime
    shown: dict[str, Any] = instance_object(runtime.settings, base_url(runtime.settings, page.request), spec, instance)
    return page.render(
        "instance.html",
        f"{instance.name} ({spec.title})",
        url=shown["url"],
        resources=shown["resources"],
        options=_option_rows(spec, shown),
        health=await instance_service.health(page.session, runtime, spec, instance),
        logs=(await instance_service.logs(page.session, instance, timestamps=True))[-LOG_LINES:],
        dashboard=page.request.app.state.dashboards.get(spec.id),
        notice=notice(page.request),
    )


@router.post("/instances/{service_id}/{name}/restart")
async def restart(page: InstanceDep) -> Response:
    """What `mediaplane restart` and the API's restart do: the service's own restart of the instance."""
    await instance_service.restart(page.session, page.runtime, page.spec, page.instance)
    return page.back("restarted")


def _options_page(page: InstancePage, form: InstanceForm, status_code: int = 200) -> Response:
    return page.render("instance_options.html", f"Options of {page.instance.name}", status_code, form=form)


@router.get("/instances/{service_id}/{name}/options")
async def options(page: InstanceDep) -> Response:
    return _options_page(page, options_form(page.spec, page.instance.options))


@router.post("/instances/{service_id}/{name}/options")
async def update_options(page: InstanceDep) -> Response:
    """What `PATCH /<serviceId>instance/<name>` does (the eyeson CLI's `rotate-key` is one)."""
    spec, instance = page.spec, page.instance
    form, changes = parse_options_form(spec, await read_form(page.request), instance.options)
    if not form.valid:
        return _options_page(page, form, 400)
    try:
        await instance_service.update(page.session, page.runtime, spec, instance, changes)
    except MediaplaneError as exc:
        # Raised, so that the new options and whatever the service's hook wrote are rolled back.
        form.message = exc.message
        raise PageError(_options_page(page, form, exc.status_code)) from None
    renewed = [
        (o.name, o.label or o.name, instance.options.get(o.name))
        for o in spec.options
        if o.secret and o.generate is not None and o.name in changes and changes[o.name] is None
    ]
    if renewed:  # new secrets: shown here, once (a page of its own, so they are in no URL)
        return page.render("instance_options_saved.html", f"Options of {instance.name} saved", once=renewed)
    return page.back("updated")


@router.get("/instances/{service_id}/{name}/remove")
async def confirm_remove(page: InstanceDep) -> Response:
    return page.render("instance_remove.html", f"Remove {page.instance.name}?")


@router.post("/instances/{service_id}/{name}/remove")
async def remove(page: InstanceDep) -> Response:
    await instance_service.delete(page.session, page.runtime, page.spec, page.instance)
    return page.back("removed", to_list=True)
