from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Path, Request

from mediaplane.core.catalog import ServiceSpec
from mediaplane.core.deps import RuntimeDep
from mediaplane.core.token.auth import authenticate_service, sat_header
from mediaplane.core.token.service import Principal
from mediaplane.kit.errors import NotFound


@dataclass(frozen=True)
class ServiceCaller:
    spec: ServiceSpec
    principal: Principal


async def service_caller(
    request: Request,
    runtime: RuntimeDep,
    service_id: Annotated[str, Path(description="The service id, e.g. encore")],
    _header: Annotated[str | None, Depends(sat_header)] = None,
) -> ServiceCaller:
    spec = runtime.registry.get(service_id)
    if spec is None:
        raise NotFound(f"Unknown service: {service_id}")
    return ServiceCaller(spec, await authenticate_service(request, service_id))


CurrentCaller = Annotated[ServiceCaller, Depends(service_caller)]
