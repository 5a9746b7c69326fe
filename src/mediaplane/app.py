"""create_app(): the platform API, each service's instance API, and the resources they share."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from mediaplane import __version__
from mediaplane.config import Settings
from mediaplane.console.app import BrowserHome, ConsoleApp
from mediaplane.console.security import CONSOLE_PATH
from mediaplane.core.catalog import Registry
from mediaplane.core.catalog.routes import router as catalog_router
from mediaplane.core.errors import install_error_handlers
from mediaplane.core.ingest.manager import IngestManager
from mediaplane.core.ingest.nginx import NginxNotFound
from mediaplane.core.ingest.routes import router as ingest_router
from mediaplane.core.instance.dispatch import InstanceDispatcher
from mediaplane.core.instance.routes import router as instance_router
from mediaplane.core.ops.metrics import Metrics, MetricsMiddleware
from mediaplane.core.ops.routes import router as ops_router
from mediaplane.core.runtime import Runtime, open_runtime
from mediaplane.core.tenant.routes import router as tenant_router
from mediaplane.core.token.routes import router as token_router
from mediaplane.kit.clock import Clock

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "core" / "static"


class MediaplaneApp:
    """The ASGI entry point: instance requests go to their service, the rest to the platform."""

    def __init__(self, platform: FastAPI, dispatcher: InstanceDispatcher, metrics: Metrics) -> None:
        self.platform = platform
        self.dispatcher = dispatcher
        self._entry = MetricsMiddleware(dispatcher, metrics)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.platform.state.runtime
        return runtime

    async def __call__(self, scope, receive, send):  # type: ignore[no-untyped-def]
        await self._entry(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    registry: Registry | None = None,
    clock: Clock | None = None,
    runtime: Runtime | None = None,
    run_workers: bool | None = None,
    run_ingest: bool | None = None,
    run_background: bool = True,
) -> MediaplaneApp:
    """Builds the app. With `runtime` given, the caller owns it (tests); otherwise lifespan opens it."""
    settings = runtime.settings if runtime is not None else (settings or Settings())
    metrics = Metrics()
    holder: dict[str, Runtime] = {}

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        rt = runtime or await open_runtime(settings, registry=registry, clock=clock)
        holder["runtime"] = rt
        app.state.runtime = rt
        for spec in rt.registry:
            dispatcher.apps[spec.id] = spec.build_app()
        console.install_plugins(rt.registry)
        workers = settings.workers if (run_workers if run_workers is not None else settings.run_workers) else 0
        if owned and workers:
            rt.jobs.start_workers(workers)
        ingest = await _start_ingest(rt) if (run_ingest if run_ingest is not None else settings.rtmp_enabled) else None
        try:
            async with AsyncExitStack() as background:
                for spec in rt.registry if run_background else ():
                    if spec.background is not None:
                        await background.enter_async_context(spec.background(rt))
                yield
        finally:
            if ingest is not None:
                await ingest.stop()
            if owned:
                await rt.close()

    platform = FastAPI(
        title="mediaplane",
        version=__version__,
        description="Platform API: tokens, catalog and service instances.",
        lifespan=lifespan,
    )
    platform.state.metrics = metrics
    if runtime is not None:
        platform.state.runtime = runtime
        holder["runtime"] = runtime
    install_error_handlers(platform)
    # Files pages of every service may use (a video player for HLS previews), under one fixed path.
    platform.mount("/_static", StaticFiles(directory=STATIC_DIR), name="static")
    for router in (ops_router, token_router, tenant_router, catalog_router, instance_router, ingest_router):
        platform.include_router(router)
    # The web console (server-rendered pages); `GET /` from a browser goes there.
    console = ConsoleApp(lambda: holder["runtime"])
    platform.mount(CONSOLE_PATH, console, name="console")
    platform.add_middleware(BrowserHome)

    dispatcher = InstanceDispatcher(platform, lambda: holder["runtime"])
    if runtime is not None:
        for spec in runtime.registry:
            dispatcher.apps[spec.id] = spec.build_app()
        console.install_plugins(runtime.registry)
    return MediaplaneApp(platform, dispatcher, metrics)


async def _start_ingest(runtime: Runtime) -> IngestManager | None:
    """The RTMP ingest of every service that takes live publishes; without nginx, publishes are refused."""
    try:
        manager = IngestManager.create(runtime, runtime.settings.port)
        if manager is not None:
            await manager.start()
        return manager
    except NginxNotFound as exc:
        log.error("RTMP ingest not started: %s", exc)
        return None
