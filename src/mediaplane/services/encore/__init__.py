"""encore: transcoding queues with FFmpeg, speaking SVT Encore's API (`spec` is the catalog entry)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from mediaplane.core.catalog import InstanceContext, ServiceHooks, ServiceSpec
from mediaplane.services.encore.errors import problem_body
from mediaplane.services.encore.options import OPTIONS

if TYPE_CHECKING:
    from mediaplane.core.instance.models import Instance


class EncoreHooks(ServiceHooks):
    def resources(self, instance: Instance, instance_url: str) -> dict[str, Any]:
        return {
            "enqueueJob": {"url": f"{instance_url}encoreJobs", "method": "POST"},
            "listJobs": {"url": f"{instance_url}encoreJobs", "method": "GET"},
        }

    async def health(self, ctx: InstanceContext) -> str | None:
        return "running"


def _build_app() -> Any:
    from mediaplane.services.encore.app import build_encore_app

    return build_encore_app()


def _console() -> Any:
    from mediaplane.services.encore.console import console_plugin

    return console_plugin()


def _cli() -> Any:
    from mediaplane.services.encore.cli import encore_cli

    return encore_cli()


spec = ServiceSpec(
    id="encore",
    title="SVT Encore",
    description="Transcoding queues: jobs turn inputs into renditions by profile with FFmpeg (SVT Encore API).",
    build_app=_build_app,
    options=OPTIONS,
    hooks=EncoreHooks(),
    instance_noun="queue",
    category="Transcoding",
    keywords=("transcoding", "ffmpeg", "vod", "encore"),
    docs_url="https://github.com/svt/encore",
    repo_url="https://github.com/svt/encore",
    license="EUPL-1.2",
    migrations=Path(__file__).parent / "migrations" / "versions",
    model_modules=("mediaplane.services.encore.models",),
    job_modules=(
        "mediaplane.services.encore.tasks",
        "mediaplane.services.encore.callbacks",
        "mediaplane.services.encore.segmented",
    ),
    error_body=problem_body,
    cli=_cli,
    console=_console,
)
