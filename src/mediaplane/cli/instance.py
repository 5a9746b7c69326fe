"""Instance commands, as OSC's `osc`: create, list, describe, remove, logs, restart, health.

Each trades the PAT for a SAT for the service, finds the service's instance API (`apiUrl` in the
catalog) and calls it with `x-jwt: Bearer <SAT>`.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from mediaplane.cli.errors import CliError
from mediaplane.cli.output import short_time
from mediaplane.cli.state import CliState

if TYPE_CHECKING:
    from mediaplane.cli.client import InstanceApi

PANEL = "Services and instances"
NAME_PATTERN = re.compile(r"^[a-z0-9]+$")
HIDDEN_FIELDS = ("resources", "_links")
TIME_FIELDS = ("created", "updated")

SERVICE = typer.Argument(..., metavar="SERVICE", help="Service id, e.g. encore")
NAME = typer.Argument(..., metavar="NAME", help="Instance name")


def safe_name(name: str) -> str:
    """As `osc --safe-name`: lower-case, then drop everything but a-z and 0-9."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise CliError(
            f"Invalid name: {name}. Only alphanumeric characters are allowed "
            "(lowercase letters and digits; --safe-name converts a name)."
        )
    return name


def parse_instance_options(pairs: list[str]) -> dict[str, Any]:
    """`key=value` pairs into a body: dotted keys nest (`a.b=c` → {"a": {"b": "c"}}), later `=` stay in the value."""
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        parts = key.split(".")
        if not sep or not key or not all(parts):
            raise CliError(f"Invalid instance option {pair!r}: expected key=value (dotted keys nest: a.b=c)")
        node = options
        for depth, part in enumerate(parts[:-1], start=1):
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise CliError(f"Instance option {key} conflicts with {'.'.join(parts[:depth])}={child}")
            node = child
        if isinstance(node.get(parts[-1]), dict):
            raise CliError(f"Instance option {key}={value} conflicts with the nested options under {key}")
        node[parts[-1]] = value
    if "name" in options:
        raise CliError("Give the instance name as the NAME argument, not as -o name=...")
    return options


def instance_fields(instance: dict[str, Any]) -> dict[str, Any]:
    """What a person wants to read: the fields without resources and _links (as `osc describe`)."""
    return {
        key: short_time(value) if key in TIME_FIELDS else value
        for key, value in instance.items()
        if key not in HIDDEN_FIELDS
    }


@contextmanager
def instance_api(state: CliState, service: str) -> Iterator[InstanceApi]:
    with state.client() as client:
        yield client.instances(service)


def create(
    ctx: typer.Context,
    service: str = SERVICE,
    name: str = NAME,
    instance_options: list[str] = typer.Option(
        [], "--instance-options", "-o", metavar="KEY=VALUE", help="An instance option; repeat for more"
    ),
    make_safe: bool = typer.Option(False, "--safe-name", help="Lower-case the name and drop other characters"),
) -> None:
    """Create an instance of a service."""
    state = CliState.of(ctx)
    name = check_name(safe_name(name) if make_safe else name)
    body = {"name": name, **parse_instance_options(instance_options)}
    with instance_api(state, service) as api:
        instance = api.create(body)
    state.out.message("Instance created:")
    state.out.result(instance, lambda: state.out.fields(instance_fields(instance)))


def list_(ctx: typer.Context, service: str = SERVICE) -> None:
    """List your instances of a service."""
    state = CliState.of(ctx)
    with instance_api(state, service) as api:
        instances = api.list_all()
    state.out.result(
        instances,
        lambda: state.out.table(
            ["Name", "Status", "URL", "Created"],
            ([i.get("name"), i.get("status"), i.get("url"), short_time(i.get("created"))] for i in instances),
            empty=f"No {service} instances.",
            no_wrap=("Name", "URL"),
        ),
    )


def describe(ctx: typer.Context, service: str = SERVICE, name: str = NAME) -> None:
    """Show an instance: its URL, status and options, and the ports it listens on."""
    state = CliState.of(ctx)
    with instance_api(state, service) as api:
        instance = api.get(name)
        if state.json_mode:
            state.out.json(instance)
            return
        ports = api.ports(name)
    state.out.fields(instance_fields(instance))
    if ports:
        state.out.table(
            ["External IP", "External port", "Internal port"],
            ([p.get("externalIp"), p.get("externalPort"), p.get("internalPort")] for p in ports),
            title="Ports",
        )


def confirm_removal(name: str) -> None:
    if not sys.stdin.isatty():
        raise CliError(f"Not removing {name} without confirmation (stdin is not a terminal): pass -y/--yes")
    answer = typer.prompt(
        f"Are you sure you want to remove {name}? (yes/no)",
        default="",
        show_default=False,
        prompt_suffix=" ",
        err=True,
    )
    if str(answer).strip().lower() not in ("yes", "y"):
        raise CliError(f"{name} was not removed")


def remove(
    ctx: typer.Context,
    service: str = SERVICE,
    name: str = NAME,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation"),
) -> None:
    """Remove an instance and everything it holds."""
    state = CliState.of(ctx)
    if not yes:
        confirm_removal(name)
    with instance_api(state, service) as api:
        api.remove(name)
    state.out.message(f"Removed {service} instance {name}")
    if state.json_mode:
        state.out.json({"serviceId": service, "name": name, "removed": True})


def logs(
    ctx: typer.Context,
    service: str = SERVICE,
    name: str = NAME,
    timestamps: bool = typer.Option(False, "--timestamps", "-t", help="Prefix each line with its time"),
    since: int | None = typer.Option(None, "--since", metavar="SECONDS", min=0, help="Only the last SECONDS"),
) -> None:
    """Print an instance's log."""
    state = CliState.of(ctx)
    with instance_api(state, service) as api:
        text = api.logs(name, timestamps=timestamps, since_seconds=since)
    if state.json_mode:
        state.out.json({"serviceId": service, "name": name, "lines": text.splitlines()})
    else:
        sys.stdout.write(text)
        sys.stdout.flush()


def restart(ctx: typer.Context, service: str = SERVICE, name: str = NAME) -> None:
    """Restart an instance."""
    state = CliState.of(ctx)
    with instance_api(state, service) as api:
        api.restart(name)
    state.out.message(f"Restarted {service} instance {name}")
    if state.json_mode:
        state.out.json({"serviceId": service, "name": name, "restarted": True})


def health(ctx: typer.Context, service: str = SERVICE, name: str = NAME) -> None:
    """Print an instance's health: starting, running, stopped, failed or unknown."""
    state = CliState.of(ctx)
    with instance_api(state, service) as api:
        status = api.health(name)
    state.out.result(status, lambda: state.out.line(str(status.get("status", "unknown"))))


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel=PANEL)(create)
    app.command("list", rich_help_panel=PANEL)(list_)
    app.command(rich_help_panel=PANEL)(describe)
    app.command(rich_help_panel=PANEL)(remove)
    app.command(rich_help_panel=PANEL)(logs)
    app.command(rich_help_panel=PANEL)(restart)
    app.command(rich_help_panel=PANEL)(health)
