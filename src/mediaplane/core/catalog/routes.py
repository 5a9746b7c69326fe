"""The catalog: which services this mediaplane runs and how to create their instances."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from mediaplane.core.catalog.spec import ServiceSpec
from mediaplane.core.deps import RuntimeDep
from mediaplane.core.token.auth import CurrentPrincipal
from mediaplane.core.urls import api_url, base_url
from mediaplane.kit.errors import NotFound

router = APIRouter(tags=["catalog"])


def service_entry(spec: ServiceSpec, base: str) -> dict[str, Any]:
    """OSC's Service object, with the common fields also at the top level for simple clients."""
    options = [o.describe() for o in spec.options]
    return {
        "serviceId": spec.id,
        "title": spec.title,
        "description": spec.description,
        "apiUrl": api_url(base, spec.id),
        "docsUrl": spec.docs_url or f"{base}/docs",
        "serviceType": "instance",
        "status": "PUBLISHED",
        "openSourceLicense": spec.license,
        "serviceMetadata": {
            "title": spec.title,
            "description": spec.description,
            "documentationUrl": spec.docs_url or f"{base}/docs",
            "repoUrl": spec.repo_url,
            "instanceNoun": spec.instance_noun,
            "category": spec.category,
            "keywords": list(spec.keywords),
        },
        "serviceInstanceOptions": options,
    }


@router.get("/catalog", summary="All services")
async def catalog(request: Request, runtime: RuntimeDep) -> list[dict[str, Any]]:
    base = base_url(runtime.settings, request)
    return [service_entry(spec, base) for spec in runtime.registry]


@router.get("/catalog/{service_id}", summary="One service")
async def catalog_service(service_id: str, request: Request, runtime: RuntimeDep) -> dict[str, Any]:
    spec = runtime.registry.get(service_id)
    if spec is None:
        raise NotFound(f"Unknown service: {service_id}")
    return service_entry(spec, base_url(runtime.settings, request))


@router.get("/mysubscriptions", summary="The services the caller can use (OSC shape)")
async def my_subscriptions(request: Request, runtime: RuntimeDep, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    # Every tenant may use every service here; the list keeps OSC clients' auto-subscribe step a no-op.
    base = base_url(runtime.settings, request)
    return [{**service_entry(spec, base), "tenantId": principal.tenant_id} for spec in runtime.registry]


@router.post("/mysubscriptions", summary="Subscribe to services (always granted)")
async def subscribe(runtime: RuntimeDep, principal: CurrentPrincipal, body: dict[str, list[str]]) -> dict[str, Any]:
    unknown = [s for s in body.get("services", []) if s not in runtime.registry]
    if unknown:
        raise NotFound(f"Unknown service: {', '.join(unknown)}")
    return {"teamId": principal.tenant_id, "services": [spec.id for spec in runtime.registry]}


@router.get("/licenses/{service_id}", response_class=PlainTextResponse, summary="A service's license")
async def license_text(service_id: str, runtime: RuntimeDep) -> PlainTextResponse:
    spec = runtime.registry.get(service_id)
    if spec is None:
        raise NotFound(f"Unknown service: {service_id}")
    return PlainTextResponse(f"{spec.title} is open source under the {spec.license} license.\n")
