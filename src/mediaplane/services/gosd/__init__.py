"""gosd: a device fleet with gosd's API v2 — nodes and their points, blobs, plans and jobs (`spec` is the catalog
entry). The instance options hold the first user and the OAuth client; gosd's API has its own tokens."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediaplane.core.catalog import InstanceContext, ServiceHooks, ServiceSpec
from mediaplane.services.gosd.errors import error_body
from mediaplane.services.gosd.options import OPTIONS

if TYPE_CHECKING:
    from mediaplane.core.ingest import IngestHandler
    from mediaplane.core.instance.models import Instance
    from mediaplane.core.runtime import Runtime


class GosdHooks(ServiceHooks):
    def resources(self, instance: Instance, instance_url: str) -> dict[str, Any]:
        base = f"{instance_url}gosd/"
        return {
            "baseUrl": {"url": base.rstrip("/")},
            "token": {"url": f"{base}oauth/token", "method": "POST"},
            "listNodes": {"url": f"{base}api/v1/nodes/", "method": "GET"},
            "listPlans": {"url": f"{base}api/v2/plans/", "method": "GET"},
        }

    async def on_create(self, ctx: InstanceContext) -> None:
        from mediaplane.services.gosd.accounts import AccountService

        await AccountService(ctx.session, ctx.runtime, ctx.instance).sync_first_user()

    async def on_update(self, ctx: InstanceContext, changed: dict[str, Any]) -> None:
        if "username" in changed or "password" in changed:
            from mediaplane.services.gosd.accounts import AccountService

            service = AccountService(ctx.session, ctx.runtime, ctx.instance)
            await service.sync_first_user(password_changed="password" in changed)

    async def health(self, ctx: InstanceContext) -> str | None:
        return "running"


def _build_app() -> Any:
    from mediaplane.services.gosd.app import build_gosd_app

    return build_gosd_app()


def _background(runtime: Runtime) -> AbstractAsyncContextManager[None]:
    from mediaplane.services.gosd.background import gosd_background

    return gosd_background(runtime)


def _ingest() -> IngestHandler:
    from mediaplane.services.gosd.ingest import GosdIngest

    return GosdIngest()


def _cli() -> Any:
    from mediaplane.services.gosd.cli import gosd_cli

    return gosd_cli()


def _console() -> Any:
    from mediaplane.services.gosd.console import console_plugin

    return console_plugin()


def _commands() -> dict[str, Any]:
    from mediaplane.services.gosd.agent.cli import agent_commands

    return dict(agent_commands())


spec = ServiceSpec(
    id="gosd",
    title="gosd",
    description=(
        "Device fleets: nodes (drones, depots) with their points, file blobs, plans run as jobs that drive the "
        "nodes, live video (gosd API v2)."
    ),
    build_app=_build_app,
    options=OPTIONS,
    hooks=GosdHooks(),
    instance_noun="fleet",
    category="Devices",
    keywords=("drones", "fleet", "devices", "superdock", "gosd", "sb.im"),
    docs_url="https://github.com/sb-im/gosd",
    repo_url="https://github.com/sb-im/gosd",
    migrations=Path(__file__).parent / "migrations" / "versions",
    model_modules=("mediaplane.services.gosd.models",),
    job_modules=("mediaplane.services.gosd.runner", "mediaplane.services.gosd.webhooks"),
    error_body=error_body,
    cli=_cli,
    background=_background,
    ingest=_ingest,
    commands=_commands,
    console=_console,
)
