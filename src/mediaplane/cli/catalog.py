"""`mediaplane catalog`: the services this mediaplane runs and the options their instances take."""

from __future__ import annotations

from typing import Any

import typer

from mediaplane.cli.state import CliState


def describe_option(option: dict[str, Any]) -> str:
    """`name*:type` (`*` mandatory), with the choices of an enum: `color:enum(red|blue)`."""
    text = f"{option.get('name')}{'*' if option.get('mandatory') else ''}:{option.get('type', 'string')}"
    enums = option.get("enums")
    if enums:
        text += f"({'|'.join(str(e) for e in enums)})"
    return text


def catalog(ctx: typer.Context) -> None:
    """List the services: id, title, instance API URL and instance options (* = mandatory)."""
    state = CliState.of(ctx)
    with state.client(token_required=False) as client:
        services = client.catalog()
    state.out.result(
        services,
        lambda: state.out.table(
            ["ID", "Title", "API URL", "Options"],
            (
                [
                    s.get("serviceId"),
                    s.get("title"),
                    s.get("apiUrl"),
                    ", ".join(describe_option(o) for o in s.get("serviceInstanceOptions", [])) or None,
                ]
                for s in services
            ),
            empty="No services are installed.",
            no_wrap=("ID", "API URL"),
        ),
    )


def register(app: typer.Typer) -> None:
    app.command(rich_help_panel="Services and instances")(catalog)
