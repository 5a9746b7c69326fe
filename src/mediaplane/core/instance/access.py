"""What a service sub-app uses to know which instance a request is for, and that the caller may use it."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import Depends, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import HTTPConnection

from mediaplane.core.errors import describe_validation
from mediaplane.core.instance.dispatch import INSTANCE_SCOPE_KEY
from mediaplane.core.instance.models import Instance
from mediaplane.core.token.auth import authenticate_service, sat_header
from mediaplane.core.token.service import Principal
from mediaplane.kit.errors import Forbidden, MediaplaneError, NotFound

ErrorRenderer = Any  # Callable[[int, str], dict[str, Any]]


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
    *, title: str, version: str, description: str, render_error: ErrorRenderer, **kwargs: Any
) -> FastAPI:
    """A service's instance API: OpenAPI at /v3/api-docs(.yaml), Swagger UI at /docs, errors in its format."""
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

    def respond(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse(render_error(status, message), status_code=status, headers=headers)

    @app.exception_handler(MediaplaneError)
    async def _mediaplane(request: Request, exc: MediaplaneError) -> JSONResponse:
        return respond(exc.status_code, exc.message, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return respond(400, describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return respond(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return respond(500, "Internal server error")

    return app
