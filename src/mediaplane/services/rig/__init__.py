"""rig: multistreaming with xplex rig's HTTP API v1; one RTMP ingest per stream key, relayed to YouTube,
Twitch or any RTMP(S) server (`spec` is the catalog entry)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediaplane.core.catalog import InstanceContext, ServiceHooks, ServiceSpec
from mediaplane.services.rig.errors import error_body
from mediaplane.services.rig.options import OPTIONS

if TYPE_CHECKING:
    from mediaplane.core.ingest.spec import IngestHandler
    from mediaplane.core.instance.models import Instance


class RigHooks(ServiceHooks):
    def resources(self, instance: Instance, instance_url: str) -> dict[str, Any]:
        return {
            "createAccount": {"url": f"{instance_url}accounts/", "method": "POST"},
            "listStreams": {"url": f"{instance_url}streams/", "method": "GET"},
        }

    async def health(self, ctx: InstanceContext) -> str | None:
        return "running"

    async def on_delete(self, ctx: InstanceContext) -> None:
        from mediaplane.services.rig.service import drop_live_streams

        await drop_live_streams(ctx.session, ctx.runtime, ctx.instance)


def _build_app() -> Any:
    from mediaplane.services.rig.app import build_rig_app

    return build_rig_app()


def _cli() -> Any:
    from mediaplane.services.rig.cli import rig_cli

    return rig_cli()


def _console() -> Any:
    from mediaplane.services.rig.console import console_plugin

    return console_plugin()


def _ingest() -> IngestHandler:
    from mediaplane.services.rig.ingest import RigIngest

    return RigIngest()


spec = ServiceSpec(
    id="rig",
    title="xplex rig",
    description="Multistreaming: publish once over RTMP, relayed to YouTube, Twitch or any RTMP(S) server "
    "(xplex rig HTTP API v1).",
    build_app=_build_app,
    options=OPTIONS,
    hooks=RigHooks(),
    instance_noun="rig",
    category="Live streaming",
    keywords=("multistreaming", "restreaming", "rtmp", "youtube", "twitch", "xplex"),
    docs_url="https://github.com/applait/xplex-rig",
    repo_url="https://github.com/applait/xplex-rig",
    migrations=Path(__file__).parent / "migrations" / "versions",
    model_modules=("mediaplane.services.rig.models",),
    job_modules=("mediaplane.services.rig.webhooks",),
    error_body=error_body,
    ingest=_ingest,
    cli=_cli,
    console=_console,
)
