"""What eyeson's routes depend on: the instance (no platform token: eyeson's clients know only the team's API
key and access keys), the API key where a route asks for it, the request's parameters Rails-style, and the
links this instance answers with."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from mediaplane.core.deps import RuntimeDep, SessionDep
from mediaplane.core.instance.access import request_instance
from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.core.urls import base_url, instance_url
from mediaplane.kit.railsparams import ParamsError, parse_params
from mediaplane.services.eyeson.errors import bad_request, unauthorized
from mediaplane.services.eyeson.options import EyesonOptions
from mediaplane.services.eyeson.rooms import RoomService
from mediaplane.services.eyeson.views import Links

EyesonInstance = Annotated[Instance, Depends(request_instance)]


def key_matches(instance: Instance, given: str | None) -> bool:
    expected = EyesonOptions.of(instance.options).api_key
    if not given or not expected:
        return False
    given = given.strip()
    if given.lower().startswith("bearer "):  # eyeson's clients send the key raw; some people add Bearer
        given = given[7:].strip()
    return hmac.compare_digest(given.encode(), expected.encode())


def require_api_key(request: Request, instance: EyesonInstance) -> Instance:
    if not key_matches(instance, request.headers.get("authorization")):
        raise unauthorized()
    return instance


ApiKeyInstance = Annotated[Instance, Depends(require_api_key)]


async def request_params(request: Request) -> dict[str, Any]:
    try:
        return await parse_params(request)
    except ParamsError as exc:
        raise bad_request(str(exc)) from None


Params = Annotated[dict[str, Any], Depends(request_params)]


def links_for(conn: HTTPConnection, runtime: Runtime, instance: Instance) -> Links:
    settings = runtime.settings
    return Links(instance_url(settings, base_url(settings, conn), "eyeson", instance.tenant_id, instance.name))


def room_service(session: SessionDep, runtime: RuntimeDep, instance: EyesonInstance) -> RoomService:
    return RoomService(session, runtime, instance)


Rooms = Annotated[RoomService, Depends(room_service)]
