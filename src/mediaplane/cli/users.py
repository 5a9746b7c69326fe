"""`mediaplane users list|add|passwd|remove --tenant T`: a tenant's console users, directly on the data dir.

Like `tenants create --data`, this needs no server and no PAT: whoever can read the data dir can already do
anything to it. A password comes from a hidden prompt, from stdin (--password-stdin), or is generated (--generate)
and printed once.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from mediaplane.cli.errors import CliError
from mediaplane.cli.output import short_time
from mediaplane.cli.state import DATA_HELP, CliState
from mediaplane.cli.tenant import ask_password, local_settings, on_data_dir

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from mediaplane.config import Settings
    from mediaplane.core.runtime import Runtime

T = TypeVar("T")

users = typer.Typer(
    help="A tenant's console users (who signs in to the web console), on the data dir.", no_args_is_help=True
)

TENANT = typer.Option(..., "--tenant", "-t", help="The tenant whose users these are")
DATA = typer.Option(None, "--data", help=f"Work on this data dir, without a server. {DATA_HELP}")
STDIN = typer.Option(False, "--password-stdin", help="Read the password from the first line of stdin")
GENERATE = typer.Option(False, "--generate", help="Generate a password and print it (shown only this once)")


def _settings(state: CliState, data: Path | None) -> Settings:
    settings = local_settings(state, data)
    if settings is None:
        raise CliError("Users are managed on the data dir: pass --data DIR (there is no server API for them)")
    return settings


def _in_tenant(settings: Settings, tenant_id: str, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """Runs `work` in one transaction on the data dir, once the tenant is known to exist."""
    from mediaplane.core.tenant.repository import TenantRepository
    from mediaplane.kit.errors import NotFound

    async def run(runtime: Runtime) -> T:
        async with runtime.db.session() as session:
            if await TenantRepository(session).get(tenant_id) is None:
                raise NotFound(f"There is no tenant {tenant_id}")
            return await work(session)

    return on_data_dir(settings, run)


def _user_json(user: Any) -> dict[str, Any]:
    return {"username": user.username, "createdAt": user.created_at.isoformat(), "canSignIn": bool(user.password_hash)}


def _password(username: str, from_stdin: bool, generate: bool) -> tuple[str, bool]:
    """The password to set, and whether it was generated (then it is printed)."""
    if from_stdin and generate:
        raise CliError("Use either --password-stdin or --generate")
    if generate:
        from mediaplane.core.tenant.passwords import generate_password

        return generate_password(), True
    if from_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise CliError("No password on stdin")
        return password, False
    return ask_password(username), False


def _report(state: CliState, data: dict[str, Any], message: str, generated: str | None) -> None:
    out = state.out
    if generated is not None:
        data = {**data, "password": generated}

    def human() -> None:
        out.line(message)
        if generated is not None:
            out.line(f"Console password of {data['username']}, shown only this once:")
            out.line(generated)

    out.result(data, human)


@users.command("list")
def list_(ctx: typer.Context, tenant: str = TENANT, data: Path | None = DATA) -> None:
    """List the tenant's users, and whether each can sign in (has a password)."""
    from mediaplane.core.tenant.repository import UserRepository

    state = CliState.of(ctx)

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [_user_json(u) for u in await UserRepository(session).list_for_tenant(tenant)]

    rows = _in_tenant(_settings(state, data), tenant, work)
    state.out.result(
        rows,
        lambda: state.out.table(
            ["Username", "Created", "Can sign in"],
            ([u["username"], short_time(u["createdAt"]), "yes" if u["canSignIn"] else "no"] for u in rows),
            empty="No users.",
            no_wrap=("Username",),
        ),
    )


@users.command("add")
def add(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="The new user's name"),
    tenant: str = TENANT,
    data: Path | None = DATA,
    password_stdin: bool = STDIN,
    generate: bool = GENERATE,
) -> None:
    """Add a user with a console password."""
    from mediaplane.console.users import user_admin

    state = CliState.of(ctx)
    settings = _settings(state, data)
    password, generated = _password(username, password_stdin, generate)

    async def work(session: AsyncSession) -> dict[str, Any]:
        return _user_json(await user_admin.add(session, tenant, username, password))

    created = _in_tenant(settings, tenant, work)
    _report(state, created, f"Added user {username} to tenant {tenant}.", password if generated else None)


@users.command("passwd")
def passwd(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="Whose password to set"),
    tenant: str = TENANT,
    data: Path | None = DATA,
    password_stdin: bool = STDIN,
    generate: bool = GENERATE,
) -> None:
    """Set a user's console password; signs out the user's console sessions."""
    from mediaplane.console.users import user_admin

    state = CliState.of(ctx)
    settings = _settings(state, data)
    password, generated = _password(username, password_stdin, generate)

    async def work(session: AsyncSession) -> dict[str, Any]:
        user = await user_admin.find(session, tenant, username)
        await user_admin.set_password(session, user, password)
        return _user_json(user)

    changed = _in_tenant(settings, tenant, work)
    message = f"Set the password of {username} (tenant {tenant}); their console sessions are signed out."
    _report(state, changed, message, password if generated else None)


@users.command("remove")
def remove(
    ctx: typer.Context,
    username: str = typer.Argument(..., help="The user to remove"),
    tenant: str = TENANT,
    data: Path | None = DATA,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for a confirmation"),
) -> None:
    """Remove a user, with their sessions and PATs (never the tenant's last user)."""
    from mediaplane.console.users import user_admin

    state = CliState.of(ctx)
    settings = _settings(state, data)
    if not yes and not typer.confirm(f"Remove user {username} of tenant {tenant}, and their PATs?", err=True):
        raise CliError("Nothing removed")

    async def work(session: AsyncSession) -> dict[str, Any]:
        user = await user_admin.find(session, tenant, username)
        await user_admin.remove(session, user)
        return _user_json(user)

    removed = _in_tenant(settings, tenant, work)
    _report(state, removed, f"Removed user {username} of tenant {tenant}.", None)


def register(app: typer.Typer) -> None:
    app.add_typer(users, name="users", rich_help_panel="Tenants and tokens")
