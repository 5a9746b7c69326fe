"""What a service sub-app uses to know which instance a request is for, and that the caller may use it."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import Depends, FastAPI, Request, Response
from starlette.requests import HTTPConnection

from mediaplane.core.errors import ErrorRenderer, ErrorResponder, body_responder, install_error_handlers
from mediaplane.core.instance.dispatch import INSTANCE_SCOPE_KEY
from mediaplane.core.instance.models import Instance
from mediaplane.core.token.auth import authenticate_service, sat_header
from mediaplane.core.token.service import Principal
from mediaplane.kit.errors import Forbidden, NotFound


def request_instance(conn: HTTPConnection) -> Instance:
    instance = conn.scope.get(INSTANCE_SCOPE_KEY)
    if not isinstance(instance, Instance):
        raise NotFound("This API is served per instance: /{serviceId}/{tenant}-{name}/")
    return instance


async def current_instance(request: Request, _header: Annotated[str | None, Depends(sat_header)] = None) -> Instance:
    """The instance, once the SAT proves the caller belongs to its tenant and service."""
    instance = request_instance(request)
    principal: Principal = await authenticate_service(request, instance.service_id)
    if principal.tenant_id != instance.tenant_id:
        raise Forbidden("This service access token is not valid for this instance")
    return instance


CurrentInstance = Annotated[Instance, Depends(current_instance)]


def new_service_app(
    *,
    title: str,
    version: str,
    description: str,
    render_error: ErrorRenderer | None = None,
    respond: ErrorResponder | None = None,
    **kwargs: Any,
) -> FastAPI:
    """A service's instance API: OpenAPI at /v3/api-docs(.yaml), Swagger UI at /docs, errors in its format:
    `render_error` makes the error body from status and message, `respond` the whole answer."""
    app = FastAPI(
        title=title,
        version=version,
        description=description,
        openapi_url="/v3/api-docs",
        docs_url="/docs",
        redoc_url=None,
        **kwargs,
    )

    @app.get("/v3/api-docs.yaml", include_in_schema=False)
    async def openapi_yaml() -> Response:
        return Response(yaml.safe_dump(app.openapi(), sort_keys=False), media_type="application/yaml")

    if respond is None:
        if render_error is None:
            raise ValueError("a service app needs render_error or respond")
        respond = body_responder(render_error)
    install_error_handlers(app, respond)
    return app
