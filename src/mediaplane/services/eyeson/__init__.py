"""eyeson: video rooms with eyeson's REST API — participants join over WebRTC and everyone receives one
composed picture of the room (`spec` is the catalog entry). The instance options hold the team's API key."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediaplane.core.catalog import InstanceContext, ServiceHooks, ServiceSpec
from mediaplane.services.eyeson.errors import error_body
from mediaplane.services.eyeson.options import OPTIONS

if TYPE_CHECKING:
    from mediaplane.core.instance.models import Instance
    from mediaplane.core.runtime import Runtime


class EyesonHooks(ServiceHooks):
    def resources(self, instance: Instance, instance_url: str) -> dict[str, Any]:
        return {
            "apiBaseUrl": {"url": instance_url.rstrip("/")},
            "createRoom": {"url": f"{instance_url}rooms", "method": "POST"},
            "listRooms": {"url": f"{instance_url}rooms", "method": "GET"},
            "webhooks": {"url": f"{instance_url}webhooks", "method": "GET"},
        }

    async def health(self, ctx: InstanceContext) -> str | None:
        return "running"

    async def on_delete(self, ctx: InstanceContext) -> None:
        from mediaplane.services.eyeson.rooms import end_all_meetings

        await end_all_meetings(ctx.session, ctx.runtime, ctx.instance)


def _build_app() -> Any:
    from mediaplane.services.eyeson.app import build_eyeson_app

    return build_eyeson_app()


def _background(runtime: Runtime) -> AbstractAsyncContextManager[None]:
    from mediaplane.services.eyeson.background import eyeson_background

    return eyeson_background(runtime)


def _console() -> Any:
    from mediaplane.services.eyeson.console import console_plugin

    return console_plugin()


def _cli() -> Any:
    from mediaplane.services.eyeson.cli import eyeson_cli

    return eyeson_cli()


spec = ServiceSpec(
    id="eyeson",
    title="eyeson",
    description=(
        "Video rooms: people join from the browser over WebRTC and everyone sees and hears one composed picture "
        "of the room, with layouts and names; realtime events and signed webhooks (eyeson REST API)."
    ),
    build_app=_build_app,
    options=OPTIONS,
    hooks=EyesonHooks(),
    instance_noun="team",
    category="Video conferencing",
    keywords=("webrtc", "video rooms", "mcu", "conferencing", "eyeson"),
    docs_url="https://docs.eyeson.com/docs/rest/references/meeting-room",
    repo_url="https://github.com/eyeson-team/api",
    migrations=Path(__file__).parent / "migrations" / "versions",
    model_modules=("mediaplane.services.eyeson.models",),
    job_modules=("mediaplane.services.eyeson.webhooks",),
    error_body=error_body,
    cli=_cli,
    background=_background,
    console=_console,
)
