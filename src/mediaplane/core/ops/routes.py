"""Liveness, readiness and metrics for operators."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from mediaplane import __version__
from mediaplane.core.deps import RuntimeDep
from mediaplane.core.instance.repository import InstanceRepository
from mediaplane.core.ops.metrics import Metrics

router = APIRouter(tags=["operations"])


@router.get("/", summary="What this server is and where to go next")
async def root(request: Request) -> dict[str, Any]:
    return {
        "name": "mediaplane",
        "status": "ok",
        "versions": {"mediaplane": __version__},
        "_links": {
            "catalog": {"href": "/catalog"},
            "api": {"href": "/docs"},
            "health": {"href": "/health"},
        },
    }


@router.get("/health", summary="Liveness")
async def health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


@router.get("/ready", summary="Readiness: database and queue reachable")
async def ready(runtime: RuntimeDep, response: Response) -> dict[str, Any]:
    checks: dict[str, str] = {}
    for name, probe in (("database", runtime.db.ping), ("queue", runtime.jobs.ping)):
        try:
            await probe()
            checks[name] = "ok"
        except Exception as exc:  # a readiness probe reports every failure, whatever its kind
            checks[name] = f"error: {exc.__class__.__name__}"
    ok = all(v == "ok" for v in checks.values())
    response.status_code = 200 if ok else 503
    return {"status": "ready" if ok else "unavailable", "checks": checks}


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(request: Request, runtime: RuntimeDep) -> Response:
    collected: Metrics = request.app.state.metrics
    async with runtime.db.session() as session:
        collected.jobs.clear()
        for name, state, count in await runtime.jobs.counts(session):
            collected.jobs.labels(name, state).set(count)
        collected.instances.clear()
        for service, count in await InstanceRepository(session).count_by_service():
            collected.instances.labels(service).set(count)
    return Response(generate_latest(collected.registry), media_type=CONTENT_TYPE_LATEST)
