"""The API of one encore instance: Encore's routes, errors and OpenAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from mediaplane.core.instance.access import new_service_app
from mediaplane.services.encore.errors import respond
from mediaplane.services.encore.routes import files, info, jobs
from mediaplane.services.encore.schemas.job import EncoreJob

VERSION = "0.2.11"
DESCRIPTION = (
    "Transcoding queues compatible with SVT Encore: POST /encoreJobs to transcode inputs by a profile with "
    "FFmpeg; follow progress on GET /encoreJobs/{id}; results under /usercontent/ or in S3."
)


def build_encore_app() -> FastAPI:
    app = new_service_app(title="Encore API", version=VERSION, description=DESCRIPTION, respond=respond)
    app.include_router(info.open_router)
    app.include_router(info.router)
    app.include_router(jobs.router)
    app.include_router(files.router)
    original = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = original()
            job_schema = EncoreJob.model_json_schema(by_alias=True, ref_template="#/components/schemas/{model}")
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            components.update(job_schema.pop("$defs", {}))
            components["EncoreJob"] = job_schema
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
