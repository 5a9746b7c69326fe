"""The catalog: the services, and a "create instance" form for each, generated from its instance options."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from mediaplane.console.auth import SignedIn
from mediaplane.console.deps import SignedInDep, TemplatesDep, read_form
from mediaplane.console.errors import PageError
from mediaplane.console.forms import InstanceForm, empty_form, field_error, parse_form
from mediaplane.console.render import Templates
from mediaplane.core.catalog import ServiceSpec
from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.instance.schemas import instance_object
from mediaplane.core.instance.service import instance_service
from mediaplane.core.runtime import Runtime
from mediaplane.core.urls import base_url
from mediaplane.kit.errors import Conflict, MediaplaneError, NotFound

router = APIRouter()


def service_of(runtime: Runtime, service_id: str) -> ServiceSpec:
    spec = runtime.registry.get(service_id)
    if spec is None:
        raise NotFound("There is no such service here.")
    return spec


def _form_page(
    request: Request, templates: Templates, signed: SignedIn, spec: ServiceSpec, form: InstanceForm, status_code: int
) -> Response:
    return templates.render(
        request,
        "service.html",
        status_code=status_code,
        signed=signed,
        nav="catalog",
        title=f"New {spec.title} {spec.instance_noun}",
        spec=spec,
        form=form,
    )


@router.get("/catalog")
async def catalog(request: Request, signed: SignedInDep, runtime: RuntimeDep, templates: TemplatesDep) -> Response:
    services = list(runtime.registry)
    return templates.render(request, "catalog.html", signed=signed, nav="catalog", title="Catalog", services=services)


@router.get("/catalog/{service_id}")
async def service_form(
    service_id: str, request: Request, signed: SignedInDep, runtime: RuntimeDep, templates: TemplatesDep
) -> Response:
    spec = service_of(runtime, service_id)
    return _form_page(request, templates, signed, spec, empty_form(spec), 200)


@router.post("/catalog/{service_id}")
async def create_instance(
    service_id: str,
    request: Request,
    signed: SignedInDep,
    session: SessionDep,
    runtime: RuntimeDep,
    templates: TemplatesDep,
) -> Response:
    spec = service_of(runtime, service_id)
    form, body = parse_form(spec, await read_form(request))
    if not form.valid:
        return _form_page(request, templates, signed, spec, form, 400)
    try:
        instance = await instance_service.create(session, runtime, spec, signed.principal, body)
    except Conflict:
        field_error(form, "name", "You already have an instance of this name.")
        raise PageError(_form_page(request, templates, signed, spec, form, 409)) from None
    except MediaplaneError as exc:
        # Raised, so that whatever the service's hooks wrote before failing is rolled back.
        form.message = exc.message
        raise PageError(_form_page(request, templates, signed, spec, form, exc.status_code)) from None
    shown = instance_object(runtime.settings, base_url(runtime.settings, request), spec, instance, reveal_secrets=True)
    # What the service generated: secrets are masked from now on, so this is their one showing.
    once: list[tuple[str, str, object]] = []
    generated: list[tuple[str, str, object]] = []
    for option in spec.options:
        value = shown.get(option.name)
        if option.generate is None or option.name in body or value in (None, ""):
            continue
        (once if option.secret else generated).append((option.name, option.label or option.name, value))
    return templates.render(
        request,
        "instance_created.html",
        signed=signed,
        nav="instances",
        title=f"{instance.name} is created",
        spec=spec,
        instance=instance,
        url=shown["url"],
        once=once,
        generated=generated,
    )
