"""`mediaplane tenants create|list`: through the server with the admin PAT, or directly on a data dir.

Working on the data dir needs no server and no PAT (it is how the first tenants are made); it is
chosen with --data, or when no server URL is configured and the local data dir exists. SQLite runs
in WAL mode, so this is safe while the server runs on the same data dir.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from mediaplane.cli.errors import CliError
from mediaplane.cli.output import short_time
from mediaplane.cli.state import DATA_HELP, CliState, existing_data_dir, load_settings, prepare

if TYPE_CHECKING:
    from mediaplane.config import Settings
    from mediaplane.core.runtime import Runtime

T = TypeVar("T")
MIN_PASSWORD = 8

tenants = typer.Typer(
    help="Tenants (organisations). Each gets a first user and PAT. Admin tenant only, or --data.",
    no_args_is_help=True,
)


def local_settings(state: CliState, data: Path | None) -> Settings | None:
    """Settings for working on a data dir directly, or None to go through the server."""
    if data is not None:
        return load_settings(data_dir=existing_data_dir(data))
    if state.connection.url_configured:
        return None
    settings = load_settings()
    return settings if settings.data_dir.is_dir() else None


def on_data_dir(settings: Settings, work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Opens the runtime on the data dir (migrating it), runs `work`, closes it; platform errors become CliErrors."""
    from sqlalchemy.exc import SQLAlchemyError

    from mediaplane.core.runtime import open_runtime
    from mediaplane.kit.errors import MediaplaneError

    async def run() -> T:
        runtime = await open_runtime(prepare(settings))
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    try:
        return asyncio.run(run())
    except MediaplaneError as exc:
        raise CliError(exc.message, status=exc.status_code) from exc
    except SQLAlchemyError as exc:
        raise CliError(f"Database error in {settings.data_dir}: {exc}") from exc


def _tenant_json(tenant: Any) -> dict[str, Any]:
    return {"id": tenant.id, "title": tenant.title, "createdAt": tenant.created_at.isoformat()}


def create_on_data_dir(settings: Settings, name: str, username: str, password: str | None) -> dict[str, Any]:
    from mediaplane.core.tenant.service import tenant_service

    async def work(runtime: Runtime) -> dict[str, Any]:
        async with runtime.db.session() as session:
            created = await tenant_service.create(session, runtime, name, username=username, password=password)
        return {**_tenant_json(created.tenant), "username": created.user.username, "token": created.token}

    return on_data_dir(settings, work)


def list_on_data_dir(settings: Settings) -> list[dict[str, Any]]:
    from mediaplane.core.tenant.service import tenant_service

    async def work(runtime: Runtime) -> list[dict[str, Any]]:
        async with runtime.db.session() as session:
            return [_tenant_json(t) for t in await tenant_service.list(session)]

    return on_data_dir(settings, work)


def ask_password(username: str) -> str:
    password: str = typer.prompt(
        f"Password for {username}", hide_input=True, confirmation_prompt=True, err=True, show_default=False
    )
    if len(password) < MIN_PASSWORD:
        raise CliError(f"The password must have at least {MIN_PASSWORD} characters")
    return password


@tenants.command("create")
def create(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Tenant id: lowercase letters and digits"),
    data: Path | None = typer.Option(None, "--data", help=f"Work on this data dir, without a server. {DATA_HELP}"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="Print only the new PAT"),
    password: bool = typer.Option(
        False, "--password", help="Ask for the first user's console password (else one is generated and printed)"
    ),
    username: str = typer.Option("admin", "--username", help="The tenant's first user"),
) -> None:
    """Create a tenant, its first user and PAT; prints the PAT and the user's console password (shown only once)."""
    from mediaplane.core.tenant.passwords import generate_password

    state = CliState.of(ctx)
    generated = None if password else generate_password()
    secret = ask_password(username) if password else generated
    settings = local_settings(state, data)
    if settings is not None:
        created = create_on_data_dir(settings, name, username, secret)
    else:
        with state.client() as client:
            created = client.create_tenant(name, username=username, password=secret)
    if generated is not None:
        created = {**created, "password": generated}
    out = state.out
    if quiet:
        out.line(created["token"])
        return

    def human() -> None:
        out.line(
            f"Created tenant {created['id']} (user {created['username']}). "
            "Its personal access token is shown only this once:"
        )
        out.line(created["token"])
        if generated is not None:
            out.line(
                f"Console password of {created['username']} (tenant {created['id']}), shown only this once "
                "(change it in the console's Account page):"
            )
            out.line(generated)

    out.result(created, human)


@tenants.command("list")
def list_(
    ctx: typer.Context,
    data: Path | None = typer.Option(None, "--data", help=f"Read this data dir, without a server. {DATA_HELP}"),
) -> None:
    """List all tenants."""
    state = CliState.of(ctx)
    settings = local_settings(state, data)
    if settings is not None:
        rows = list_on_data_dir(settings)
    else:
        with state.client() as client:
            rows = client.list_tenants()
    state.out.result(
        rows,
        lambda: state.out.table(
            ["ID", "Title", "Created"],
            ([t["id"], t["title"], short_time(t["createdAt"])] for t in rows),
            empty="No tenants.",
            no_wrap=("ID",),
        ),
    )


def register(app: typer.Typer) -> None:
    app.add_typer(tenants, name="tenants", rich_help_panel="Tenants and tokens")
