"""Sends each request for an instance to its service's sub-app; everything else to the platform.

Path-based: /{serviceId}/{tenant}-{name}/... (root_path carries the prefix, as a Starlette Mount does).
Host-based (with a base domain): {tenant}-{name}.{serviceId}.{domain}.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.requests import HTTPConnection
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from mediaplane.core.deps import RUNTIME_SCOPE_KEY
from mediaplane.core.instance.repository import InstanceRepository
from mediaplane.core.runtime import Runtime
from mediaplane.core.token.auth import authenticate_service
from mediaplane.kit.errors import MediaplaneError

INSTANCE_SCOPE_KEY = "mediaplane.instance"
_KEY = r"(?P<tenant>[a-z0-9]+)-(?P<name>[a-z0-9]+)"
_PATH = re.compile(rf"^/(?P<service>[a-z][a-z0-9]*)/{_KEY}(?P<rest>/.*)?$")


@dataclass(frozen=True)
class Target:
    service_id: str
    tenant_id: str
    name: str
    prefix: str


def match_path(path: str) -> Target | None:
    m = _PATH.match(path)
    if m is None:
        return None
    prefix = f"/{m['service']}/{m['tenant']}-{m['name']}"
    return Target(m["service"], m["tenant"], m["name"], prefix)


def match_host(host: str, base_domain: str) -> Target | None:
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    suffix = "." + base_domain.lower().strip(".")
    hostname = hostname.lower()
    if not hostname.endswith(suffix):
        return None
    m = re.fullmatch(rf"{_KEY}\.(?P<service>[a-z][a-z0-9]*)", hostname[: -len(suffix)])
    if m is None:
        return None
    return Target(m["service"], m["tenant"], m["name"], "")


class InstanceDispatcher:
    def __init__(self, platform: ASGIApp, runtime_of: object) -> None:
        self.platform = platform
        self._runtime_of = runtime_of  # a zero-argument callable returning the Runtime once started
        self.apps: dict[str, ASGIApp] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.platform(scope, receive, send)
            return
        runtime: Runtime = self._runtime_of()  # type: ignore[operator]
        target = self._target(scope, runtime)
        if target is None:
            await self.platform(scope, receive, send)
            return
        app = self.apps.get(target.service_id)
        spec = runtime.registry.get(target.service_id)
        if app is None or spec is None:
            await self.platform(scope, receive, send)
            return
        async with runtime.db.session() as session:
            instance = await InstanceRepository(session).get_by_name(target.tenant_id, target.service_id, target.name)
        scope["mediaplane.route_label"] = f"/{target.service_id}/<instance>"
        scope = dict(scope)
        scope[RUNTIME_SCOPE_KEY] = runtime
        if instance is None:
            await self._not_found(scope, receive, send, spec.error_body, target)
            return
        scope["root_path"] = scope.get("root_path", "") + target.prefix
        scope[INSTANCE_SCOPE_KEY] = instance
        await app(scope, receive, send)

    def _target(self, scope: Scope, runtime: Runtime) -> Target | None:
        domain = runtime.settings.base_domain
        if domain:
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            found = match_host(host, domain)
            if found is not None:
                return found
        path: str = scope.get("path", "")
        root = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        found = match_path(path)
        if found is None or found.service_id not in runtime.registry:
            return None
        return found

    async def _not_found(self, scope: Scope, receive: Receive, send: Send, error_body: object, t: Target) -> None:
        """404 only to a caller of that tenant: to anyone else a missing instance looks like a guarded one."""
        status, message = 404, f"No instance {t.tenant_id}-{t.name} of {t.service_id}"
        try:
            principal = await authenticate_service(HTTPConnection(scope), t.service_id)
            if principal.tenant_id != t.tenant_id:
                status, message = 403, "This service access token is not valid for this instance"
        except MediaplaneError as exc:
            status, message = exc.status_code, exc.message
        body = error_body(status, message) if callable(error_body) else {"reason": message}
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 4000 + status})
            return
        await JSONResponse(body, status_code=status)(scope, receive, send)
