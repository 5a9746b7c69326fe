"""`mediaplane serve` (API, and job workers unless told otherwise) and `mediaplane worker`."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

from mediaplane.cli.errors import CliError
from mediaplane.cli.state import DATA_HELP, load_settings, prepare

if TYPE_CHECKING:
    from mediaplane.config import Settings
    from mediaplane.core.catalog import Registry

PANEL = "Server"


def bind_socket(host: str, port: int) -> socket.socket:
    """Binds before anything else starts, so a taken port is a clear error and not a half-started server."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise CliError(
                f"Port {port} on {host} is already in use: stop what is using it or pick another with --port"
            ) from exc
        if exc.errno == errno.EACCES:
            raise CliError(f"Not allowed to listen on {host}:{port}: pick a port above 1023 with --port") from exc
        raise CliError(f"Cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    except socket.gaierror as exc:
        sock.close()
        raise CliError(f"Cannot listen on {host}:{port}: {exc}") from exc
    sock.set_inheritable(True)
    return sock


def check_log_level(settings: Settings) -> Settings:
    if settings.log_level.upper() not in logging.getLevelNamesMapping():
        raise CliError(f"Unknown log level {settings.log_level!r}: use DEBUG, INFO, WARNING or ERROR")
    return settings


def display_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@dataclass(frozen=True)
class FirstAdmin:
    """What the first start made: the admin tenant's PAT and its `admin` user's console password."""

    tenant: str
    username: str
    password: str
    token: str


async def bootstrap_admin(settings: Settings, registry: Registry | None = None) -> FirstAdmin | None:
    """On an empty data dir (no tenant yet) creates the `admin` tenant, its user `admin` with a generated
    console password, and a PAT; returns them, else None."""
    from mediaplane.core.runtime import open_runtime
    from mediaplane.core.tenant.passwords import generate_password
    from mediaplane.core.tenant.service import ADMIN_TENANT, tenant_service

    runtime = await open_runtime(settings, registry=registry)
    try:
        async with runtime.db.session() as session:
            if await tenant_service.list(session):
                return None
            password = generate_password()
            created = await tenant_service.create(session, runtime, ADMIN_TENANT, password=password)
        return FirstAdmin(created.tenant.id, created.user.username, password, created.token)
    finally:
        await runtime.close()


def first_start_panel(console: Console, url: str, admin: FirstAdmin) -> None:
    """The admin PAT and console password, once. Lines are never wrapped (and the box has no side edges) so
    they copy whole."""
    lines = [
        Text("Created the admin tenant. Its password and token are shown only this once: keep them safe."),
        Text(""),
        Text.assemble(("URL:       ", "bold"), url),
        Text.assemble(("Console:   ", "bold"), f"{url}/console/"),
        Text.assemble(("Sign in:   ", "bold"), f"tenant {admin.tenant}, user {admin.username}"),
        Text.assemble(("Password:  ", "bold"), admin.password),
        Text.assemble(("Admin PAT: ", "bold"), admin.token),
        Text(""),
        Text("Use the PAT from this shell:"),
        Text(f"export MEDIAPLANE_URL={url}"),
        Text(f"export MEDIAPLANE_ACCESS_TOKEN={admin.token}"),
        Text(""),
        Text("then e.g. `mediaplane tenants create acme` adds a tenant and prints its PAT and console password."),
    ]
    width = max(console.width, max(len(line.plain) for line in lines) + 4)
    Console(file=console.file, width=width, highlight=False).print(
        Panel(Group(*lines), title="mediaplane: first start", title_align="left", box=box.HORIZONTALS)
    )


def run_server(settings: Settings, *, registry: Registry | None = None, console: Console | None = None) -> None:
    """Binds, creates the admin tenant on a first start, then runs uvicorn on `create_app(settings)`."""
    out = console or Console(highlight=False)
    check_log_level(settings)
    sock = bind_socket(settings.host, settings.port)
    try:
        import uvicorn

        from mediaplane.app import create_app
        from mediaplane.logs import configure_logging

        settings.port = sock.getsockname()[1]
        url = display_url(settings.host, settings.port)
        config = uvicorn.Config(
            create_app(settings, registry=registry),
            host=settings.host,
            port=settings.port,
            log_config=None,  # ours, below: one format for uvicorn's and mediaplane's records
            log_level=settings.log_level.lower(),
            lifespan="on",
        )
        configure_logging(settings)
        prepare(settings)
        admin = asyncio.run(bootstrap_admin(settings, registry))
        if admin is not None:
            first_start_panel(out, settings.base_url, admin)

        class Server(uvicorn.Server):
            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets=sockets)
                if self.started:
                    out.print(Text(f"mediaplane listening on {url}", style="bold green"))

        server = Server(config)
        try:
            server.run(sockets=[sock])
        except SystemExit as exc:
            if exc.code not in (None, 0):
                raise CliError("The server failed to start; see the log above") from None
            raise
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        if not server.started:
            raise CliError("The server failed to start; see the log above")
    finally:
        sock.close()


def serve(
    host: str | None = typer.Option(None, "--host", help="Interface to listen on (env MEDIAPLANE_HOST; 127.0.0.1)"),
    port: int | None = typer.Option(None, "--port", "-p", help="Port (env MEDIAPLANE_PORT; 8080)", min=0, max=65535),
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    no_workers: bool = typer.Option(False, "--no-workers", help="Serve the API only; run `mediaplane worker` apart"),
    workers: int | None = typer.Option(
        None, "--workers", help="Job workers in this process (env MEDIAPLANE_WORKERS; 4)", min=0
    ),
) -> None:
    """Run the server: the platform API, every service's instances and (unless --no-workers) job workers.

    On the first start of an empty data directory it creates the `admin` tenant and prints its PAT once.
    """
    settings = load_settings(
        host=host,
        port=port,
        data_dir=data,
        workers=workers,
        run_workers=False if no_workers else None,
    )
    run_server(settings)


def worker(
    data: Path | None = typer.Option(None, "--data", help=DATA_HELP),
    workers: int | None = typer.Option(None, "--workers", help="Concurrent jobs (env MEDIAPLANE_WORKERS; 4)", min=1),
) -> None:
    """Run job workers only (scale-out: API nodes with --no-workers plus worker processes)."""
    from mediaplane.cli.worker import run_worker
    from mediaplane.logs import configure_logging

    settings = check_log_level(load_settings(data_dir=data, workers=workers))
    if settings.workers < 1:
        raise CliError("A worker process needs at least one worker: pass --workers N (or MEDIAPLANE_WORKERS)")
    configure_logging(settings)
    run_worker(prepare(settings), settings.workers)


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(serve)
    app.command(rich_help_panel=PANEL)(worker)
