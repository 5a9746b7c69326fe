"""Tokens: `login`, `pats create|list|revoke` (the caller's PATs) and `service-access-token` (a SAT)."""

from __future__ import annotations

import sys

import typer

from mediaplane.cli.errors import CliError
from mediaplane.cli.output import short_time
from mediaplane.cli.profile import SavedConfig, save_config
from mediaplane.cli.state import CliState

PANEL = "Tenants and tokens"

pats = typer.Typer(help="Your tenant's personal access tokens (PATs).", no_args_is_help=True)


@pats.command("create")
def create(ctx: typer.Context, name: str = typer.Argument(..., help="A name to recognise the token by")) -> None:
    """Create a PAT in the caller's tenant; prints it (shown only once)."""
    state = CliState.of(ctx)
    with state.client() as client:
        created = client.create_pat(name)
    state.out.message(f"Created token {created['name']} (id {created['id']}); it is shown only this once:")
    state.out.result(created, lambda: state.out.line(created["token"]))


@pats.command("list")
def list_(ctx: typer.Context) -> None:
    """List the tenant's PATs (never the tokens themselves)."""
    state = CliState.of(ctx)
    with state.client() as client:
        rows = client.list_pats()
    state.out.result(
        rows,
        lambda: state.out.table(
            ["ID", "Name", "Created", "Last used", "State"],
            (
                [
                    p["id"],
                    p["name"],
                    short_time(p["createdAt"]),
                    short_time(p.get("lastUsedAt")),
                    "revoked" if p.get("revokedAt") else "active",
                ]
                for p in rows
            ),
            empty="No tokens.",
            no_wrap=("ID",),
        ),
    )


@pats.command("revoke")
def revoke(ctx: typer.Context, pat_id: str = typer.Argument(..., metavar="ID", help="The token's id")) -> None:
    """Revoke a PAT: it, and every SAT traded for it, stops working at once."""
    state = CliState.of(ctx)
    with state.client() as client:
        row = client.revoke_pat(pat_id)
    state.out.message(f"Revoked token {row['name']} ({row['id']})")
    if state.json_mode:
        state.out.json(row)


def service_access_token(
    ctx: typer.Context, service: str = typer.Argument(..., metavar="SERVICE", help="Service id, e.g. encore")
) -> None:
    """Trade your PAT for a service access token (SAT) for one service; prints only the SAT."""
    state = CliState.of(ctx)
    with state.client() as client:
        sat = client.service_token(service)
    state.out.result(sat, lambda: state.out.line(sat["token"]))


def login(ctx: typer.Context) -> None:
    """Save the server URL and your PAT (from --url/--token, the environment, or a prompt) after checking them.

    Saved in ~/.config/mediaplane/config.json (or $XDG_CONFIG_HOME/mediaplane/), readable only by you.
    """
    state = CliState.of(ctx)
    connection = state.connection
    token = connection.token
    if not token:
        if not sys.stdin.isatty():
            raise CliError("No token given: pass --token PAT (or set MEDIAPLANE_ACCESS_TOKEN)")
        token = str(typer.prompt("Personal access token", hide_input=True, err=True)).strip()
    from mediaplane.cli.client import PlatformClient

    with PlatformClient(connection.url, token) as client:
        me = client.me()
    path = save_config(SavedConfig(url=connection.url, token=token))
    state.out.message(f"Logged in to {connection.url} as tenant {me['tenantId']}; saved to {path}")
    if state.json_mode:
        state.out.json({"url": connection.url, **me, "configFile": str(path)})


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(login)
    app.add_typer(pats, name="pats", rich_help_panel=PANEL)
    app.command("service-access-token", rich_help_panel=PANEL)(service_access_token)
