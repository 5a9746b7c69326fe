"""The plug-in point for service dashboards.

A service sets `ServiceSpec.console` to a factory returning a `ConsolePlugin`. Its router is mounted at
`/console/<serviceId>/<instance name>/…`; before any of its routes runs, the console signs the user in (and
checks the CSRF token of every unsafe request), loads the instance of the user's tenant (404 for any other)
and hands the route a `ConsoleContext`:

    router = APIRouter()

    @router.get("/")
    async def jobs(ctx: CurrentConsole) -> HTMLResponse:
        return ctx.render("encore/jobs.html", jobs=[...])   # templates/jobs.html: {% extends "base.html" %}

    spec = ServiceSpec(..., console=lambda: ConsolePlugin(label="Jobs", router=router, templates=HERE / "templates"))
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from jinja2 import Environment
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import HTMLResponse

from mediaplane.console.auth import SignedIn
from mediaplane.console.deps import SignedInDep, get_templates
from mediaplane.console.render import Templates
from mediaplane.console.routes import plain
from mediaplane.core.catalog import ServiceSpec
from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.instance.models import Instance
from mediaplane.core.instance.service import instance_service
from mediaplane.core.runtime import Runtime
from mediaplane.core.tenant.models import Tenant, User
from mediaplane.kit.errors import NotFound

if TYPE_CHECKING:
    from mediaplane.core.catalog import Registry

log = logging.getLogger(__name__)
# First path segments the console uses itself; a service with one of these ids gets no dashboard.
RESERVED = frozenset({"account", "admin", "catalog", "instances", "sign-in", "sign-out", "static", "tokens", "users"})
CONTEXT_KEY = "console_context"


@dataclass(frozen=True)
class ConsolePlugin:
    """What a service adds to the console."""

    label: str  # the dashboard's name in the console, e.g. "Jobs"
    router: APIRouter  # mounted at /console/<serviceId>/<instance name>
    templates: Path | None = None  # a folder of Jinja2 templates, named "<serviceId>/<file>" when rendering


@dataclass
class ConsoleContext:
    """What a dashboard route gets: who is signed in, the instance, and the console's rendering."""

    request: Request
    runtime: Runtime
    session: AsyncSession  # the request's transaction (committed after the route returns)
    signed: SignedIn
    spec: ServiceSpec
    instance: Instance
    templates: Templates
    plugin: ConsolePlugin

    @property
    def tenant(self) -> Tenant:
        return self.signed.tenant

    @property
    def user(self) -> User:
        return self.signed.user

    @property
    def csrf_token(self) -> str:
        """Put it in every form as `csrf_token`, or send it as the `X-CSRF-Token` header."""
        return self.signed.csrf_token

    @property
    def env(self) -> Environment:
        """The console's Jinja2 environment: `base.html` is the layout to extend."""
        return self.templates.env

    @property
    def url(self) -> str:
        """The dashboard's own path, without a trailing slash: `/console/<serviceId>/<instance name>`."""
        root: str = self.request.scope.get("root_path", "").rstrip("/")
        return f"{root}/{self.spec.id}/{self.instance.name}"

    def render(self, template: str, /, *, status_code: int = 200, **values: Any) -> HTMLResponse:
        """A page in the console's layout; `instance`, `spec`, `dashboard` (the plug-in) and `url` are set."""
        values = {
            "nav": "instances",
            "instance": self.instance,
            "spec": self.spec,
            "dashboard": self.plugin,
            "url": self.url,
            "title": f"{self.plugin.label}: {self.instance.name}",
            **values,
        }
        return self.templates.render(self.request, template, signed=self.signed, status_code=status_code, **values)


class _LoadContext:
    """The dependency in front of a dashboard's routes."""

    def __init__(self, service_id: str, plugin: ConsolePlugin) -> None:
        self.service_id = service_id
        self.plugin = plugin

    async def __call__(
        self, request: Request, instance_name: str, signed: SignedInDep, session: SessionDep, runtime: RuntimeDep
    ) -> None:
        spec = runtime.registry.get(self.service_id)
        if spec is None or not plain(instance_name):
            raise NotFound(f"No instance named {instance_name}")
        instance = await instance_service.get(session, spec, signed.principal, instance_name)
        templates = get_templates(request)
        request.state.console_context = ConsoleContext(
            request, runtime, session, signed, spec, instance, templates, self.plugin
        )


def current_console(request: Request) -> ConsoleContext:
    context = getattr(request.state, CONTEXT_KEY, None)
    if not isinstance(context, ConsoleContext):
        raise RuntimeError("CurrentConsole is only for routes of a ConsolePlugin's router")
    return context


CurrentConsole = Annotated[ConsoleContext, Depends(current_console)]


def install_plugins(app: FastAPI, templates: Templates, registry: Registry) -> dict[str, ConsolePlugin]:
    """Mounts the dashboard of every service that has one; returns them by service id."""
    plugins: dict[str, ConsolePlugin] = {}
    for spec in registry:
        if spec.console is None:
            continue
        if spec.id in RESERVED:
            log.error("service %s: its console dashboard is not mounted (the path is the console's own)", spec.id)
            continue
        plugin = spec.console()
        app.include_router(
            plugin.router, prefix=f"/{spec.id}/{{instance_name}}", dependencies=[Depends(_LoadContext(spec.id, plugin))]
        )
        if plugin.templates is not None:
            templates.add_folder(spec.id, plugin.templates)
        plugins[spec.id] = plugin
    return plugins
