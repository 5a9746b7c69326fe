"""`mediaplane gosd ...`: log in to a gosd instance, manage its nodes (and their secrets), list its plans.

Imported whenever the CLI looks for service commands: typer, rich, httpx and the CLI's helpers only.
"""

from __future__ import annotations

import sys
from typing import Any

import typer
from rich.text import Text

from mediaplane.cli.errors import CliError
from mediaplane.cli.output import short_time
from mediaplane.cli.state import CliState
from mediaplane.services.gosd.cli_api import (
    CLIENT_ID_ENV,
    CLIENT_SECRET_ENV,
    JSON,
    PASSWORD_ENV,
    SERVICE_ID,
    USERNAME_ENV,
    Credentials,
    GosdApi,
    find_instance,
    gosd_api,
    save_token,
    saved_token,
    tokens_path,
)
from mediaplane.services.gosd.cli_jobs import add_job_commands

NAME = typer.Argument(..., metavar="NAME", help="Name of the gosd instance")
NODE_ID = typer.Argument(..., metavar="NODE_ID", help="Id of the node")
YES = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation")


def secret_input(given: str | None, label: str, option: str) -> str:
    """The option's value, else a hidden prompt on a terminal, else one line piped on stdin."""
    if given:
        return given
    if sys.stdin.isatty():
        return str(typer.prompt(label, hide_input=True, err=True))
    line = sys.stdin.readline().rstrip("\r\n")
    if not line:
        raise CliError(f"No {label.lower()}: pass {option} or pipe it on stdin")
    return line


def as_list(data: Any) -> list[JSON]:
    return [item for item in data if isinstance(item, dict)] if isinstance(data, list) else []


def login(
    ctx: typer.Context,
    name: str = NAME,
    username: str = typer.Option(..., "--username", "-u", envvar=USERNAME_ENV, help="The instance's user"),
    password: str | None = typer.Option(None, "--password", envvar=PASSWORD_ENV, help="Asked for when not given"),
    client_id: str | None = typer.Option(
        None,
        "--client-id",
        envvar=CLIENT_ID_ENV,
        help="The instance's clientId (read from the instance when not given)",
    ),
    client_secret: str | None = typer.Option(
        None, "--client-secret", envvar=CLIENT_SECRET_ENV, help="The instance's clientSecret (asked for when not given)"
    ),
) -> None:
    """Get a gosd token (POST /gosd/oauth/token); it is saved for the next commands until it expires."""
    state = CliState.of(ctx)
    secret = secret_input(client_secret, "Client secret", "--client-secret")
    user_password = secret_input(password, "Password", "--password")
    found = find_instance(state, name)
    credentials = Credentials(username, user_password, client_id or found.client_id, secret)
    with GosdApi(found.url) as api:
        answer = api.login(credentials)
    state.out.message(f"Logged in to gosd instance {name} as {username} (token saved in {tokens_path()})")
    if state.json_mode:
        state.out.json({"name": name, "username": username, "expiresIn": answer.get("expires_in")})


def logout(ctx: typer.Context, name: str = NAME) -> None:
    """Forget the saved token of the instance."""
    state = CliState.of(ctx)
    url = find_instance(state, name).url
    had = saved_token(url) is not None
    save_token(url, None)
    state.out.message(f"Logged out of gosd instance {name}" if had else f"Not logged in to gosd instance {name}")
    if state.json_mode:
        state.out.json({"name": name, "loggedOut": had})


# -- nodes -----------------------------------------------------------------------------------------


def point_summary(node: JSON) -> str:
    points = as_list(node.get("points"))
    return ", ".join(f"{p.get('id')}:{p.get('type')}" + (f" {p.get('name')}" if p.get("name") else "") for p in points)


def node_row(node: JSON) -> list[Any]:
    described = node.get("description") or None
    points = point_summary(node) or None
    secret_set = short_time(node.get("secret_set_at"))
    return [node.get("id"), node.get("name"), node.get("type_name"), described, points, secret_set]


def show_nodes(nodes: list[JSON], state: CliState) -> None:
    columns = ["ID", "Name", "Type", "Description", "Points", "Secret set"]
    state.out.table(columns, (node_row(n) for n in nodes), empty="No nodes.", no_wrap=["ID"])


def read_point(value: str) -> JSON:
    """`TYPE` or `TYPE:NAME`, e.g. `livestream_flv:front camera`."""
    kind, _, name = value.partition(":")
    if not kind:
        raise CliError(f"--point {value!r}: give TYPE or TYPE:NAME (e.g. livestream_flv:front)")
    return {"type": kind, "name": name}


def nodes_list(ctx: typer.Context, name: str = NAME) -> None:
    """List the nodes with their points."""
    state = CliState.of(ctx)
    with gosd_api(state, name) as api:
        nodes = api.nodes()
    state.out.result(nodes, lambda: show_nodes(as_list(nodes), state))


def nodes_create(
    ctx: typer.Context,
    name: str = NAME,
    node_name: str = typer.Option(..., "--name", "-n", help="The node's name"),
    type_name: str = typer.Option("air", "--type", "-t", help="air (a drone), depot, ..."),
    description: str = typer.Option("", "--description", "-d"),
    points: list[str] = typer.Option([], "--point", "-p", help="A point TYPE or TYPE:NAME; repeat for more"),
    with_secret: bool = typer.Option(False, "--secret", help="Also make the node secret for its agent (shown once)"),
) -> None:
    """Create a node."""
    state = CliState.of(ctx)
    body = {
        "name": node_name,
        "type_name": type_name,
        "description": description,
        "points": [read_point(p) for p in points],
    }
    with gosd_api(state, name) as api:
        node = api.create_node(body)
        secret = api.rotate_secret(int(node["id"])) if with_secret else None
    state.out.message(f"Created node {node.get('id')} ({node_name}) on {name}")
    if secret is not None:
        node = {**node, "secret": secret.get("secret")}
        state.out.message(Text("The node secret is shown this once: keep it for the node agent.", style="yellow"))
    state.out.result(node, lambda: state.out.fields({k: v for k, v in node.items() if k != "points"}))


def nodes_delete(ctx: typer.Context, name: str = NAME, node_id: int = NODE_ID, yes: bool = YES) -> None:
    """Delete a node and its points (refused while a plan uses it)."""
    state = CliState.of(ctx)
    if not yes:
        if not sys.stdin.isatty():
            raise CliError(f"Not deleting node {node_id} without confirmation (stdin is not a terminal): pass -y")
        if not typer.confirm(f"Delete node {node_id} and its points?", err=True):
            raise CliError(f"Not deleting node {node_id}")
    with gosd_api(state, name) as api:
        node = api.delete_node(node_id)
    state.out.message(f"Deleted node {node_id}")
    if state.json_mode:
        state.out.json(node)


def nodes_rotate_secret(ctx: typer.Context, name: str = NAME, node_id: int = NODE_ID) -> None:
    """Give the node a new secret for its agent; the old one stops working. Shown this once."""
    state = CliState.of(ctx)
    with gosd_api(state, name) as api:
        answer = api.rotate_secret(node_id)
    state.out.message(f"Node {node_id} has a new secret (shown this once; the old one no longer works):")
    if state.json_mode:
        state.out.json(answer)
    else:
        state.out.line(str(answer.get("secret")))


# -- plans -----------------------------------------------------------------------------------------


def show_plans(plans: list[JSON], state: CliState) -> None:
    rows = (
        [p.get("id"), p.get("name"), p.get("node_id"), p.get("description") or None, p.get("files"), p.get("extra")]
        for p in plans
    )
    state.out.table(["ID", "Name", "Node", "Description", "Files", "Extra"], rows, empty="No plans.", no_wrap=["ID"])


def plans_list(ctx: typer.Context, name: str = NAME) -> None:
    """List the plans."""
    state = CliState.of(ctx)
    with gosd_api(state, name) as api:
        plans = api.plans()
    state.out.result(plans, lambda: show_plans(as_list(plans), state))


def gosd_cli() -> typer.Typer:
    """The `mediaplane gosd` command group."""
    app = typer.Typer(
        name=SERVICE_ID,
        help="A device fleet on a gosd instance: log in, nodes and their secrets, plans, jobs.",
        no_args_is_help=True,
        add_completion=False,
    )
    app.command()(login)
    app.command()(logout)
    nodes = typer.Typer(help="Nodes (drones, depots) and their points.", no_args_is_help=True)
    nodes.command("list")(nodes_list)
    nodes.command("create")(nodes_create)
    nodes.command("delete")(nodes_delete)
    nodes.command("rotate-secret")(nodes_rotate_secret)
    app.add_typer(nodes, name="nodes")
    plans = typer.Typer(help="Plans: what to run on a node.", no_args_is_help=True)
    plans.command("list")(plans_list)
    add_job_commands(app, plans)
    app.add_typer(plans, name="plans")
    return app
