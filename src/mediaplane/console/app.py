"""The console as an ASGI app (create_app mounts it at /console), and the redirect that sends browsers there."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from starlette.responses import RedirectResponse
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from mediaplane.console.deps import PLATFORM_SCOPE_KEY
from mediaplane.console.errors import install_console_errors
from mediaplane.console.plugin import install_plugins
from mediaplane.console.render import Templates
from mediaplane.console.routes import account, admin, catalog, home, instances, tokens, users
from mediaplane.console.security import CONSOLE_PATH, PAGE_HEADERS
from mediaplane.core.catalog import Registry
from mediaplane.core.deps import RUNTIME_SCOPE_KEY
from mediaplane.core.runtime import Runtime

STATIC_DIR = Path(__file__).parent / "static"
_HEADERS = [(k.lower().encode(), v.encode()) for k, v in PAGE_HEADERS.items()]


class ConsoleApp:
    def __init__(self, runtime_of: Callable[[], Runtime]) -> None:
        self._runtime_of = runtime_of
        self.templates = Templates()
        self.app = FastAPI(title="mediaplane console", docs_url=None, redoc_url=None, openapi_url=None)
        self.app.state.templates = self.templates
        self.app.state.dashboards = {}
        install_console_errors(self.app)
        self.app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
        for module in (home, account, tokens, users, catalog, instances, admin):
            self.app.include_router(module.router)
        self._plugins_installed = False

    def install_plugins(self, registry: Registry) -> None:
        """Mounts the services' dashboards (once: the registry is known when the runtime is open)."""
        if not self._plugins_installed:
            self.app.state.dashboards = install_plugins(self.app, self.templates, registry)
            self._plugins_installed = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The app that mounted the console is the platform (the System page lists its routes).
        scope = {**scope, RUNTIME_SCOPE_KEY: self._runtime_of(), PLATFORM_SCOPE_KEY: scope.get("app")}

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers += [(name, value) for name, value in _HEADERS if name not in present]
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and b"cache-control" not in present:
                    headers.append((b"cache-control", b"no-store"))  # pages may show tokens and secrets
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BrowserHome:
    """`GET /` from a browser (Accept: text/html) goes to the console; API clients get the JSON as before."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            root: str = scope.get("root_path", "")
            path: str = scope["path"]
            inner = path[len(root) :] if root and path.startswith(root) else path
            accept = dict(scope.get("headers") or []).get(b"accept", b"")
            if inner == "/" and b"text/html" in accept:
                await RedirectResponse(f"{root}{CONSOLE_PATH}/", status_code=303)(scope, receive, send)
                return
        await self.app(scope, receive, send)
