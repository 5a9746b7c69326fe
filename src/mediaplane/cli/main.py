"""The `mediaplane` command: global options, error reporting, and the command groups.

Global options (`--url`, `--token`, `--json`) may be given anywhere on the line, as with OSC's `osc`
(`mediaplane list encore --json`); they are moved in front of the sub-command before parsing.
Heavy imports (the server, SQLAlchemy) happen inside the commands that need them.

Each service may bring its own command group (`mediaplane encore ...`): the `cli` factory of its `ServiceSpec`,
found through the `mediaplane.services` entry points. Loading a service's spec imports its package, so the groups
are looked up only when a command name is not a built-in one (or when all commands are listed, as for --help).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Iterable, Sequence
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import typer
from typer.core import TyperGroup

from mediaplane import __version__
from mediaplane.cli import catalog, config, instance, ops, server, tenant, token, users
from mediaplane.cli.errors import CliError
from mediaplane.cli.output import Output
from mediaplane.cli.state import CliState

SERVICE_ENTRY_POINTS = "mediaplane.services"  # as mediaplane.core.catalog.registry, without importing it
SERVICES_PANEL = "Service commands"
GLOBAL_FLAGS = frozenset({"--json"})
GLOBAL_OPTIONS = frozenset({"--url", "--token"})
JSON_KEY = "mediaplane.json"
log = logging.getLogger(__name__)


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Moves the global options (and their values) in front of everything else, up to a `--`."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest.extend(args[i:])
            break
        if arg in GLOBAL_FLAGS:
            front.append(arg)
        elif arg in GLOBAL_OPTIONS and i + 1 < len(args):
            front.extend((arg, args[i + 1]))
            i += 1
        elif "=" in arg and arg.split("=", 1)[0] in GLOBAL_OPTIONS:
            front.append(arg)
        else:
            rest.append(arg)
        i += 1
    return front + rest


def service_commands(found: Iterable[EntryPoint], taken: Collection[str] = ()) -> dict[str, Any]:
    """The command group of each service whose spec has a `cli` factory, by service id, and the top-level
    commands of those with a `commands` factory, by name.

    A plugin that fails to load, is not a ServiceSpec, or whose id is already a command is logged and skipped:
    one broken service must not take the whole CLI down. Job modules are not imported (the server does that).
    """
    from mediaplane.core.catalog.spec import ServiceSpec

    commands: dict[str, Any] = {}
    for ep in found:
        try:
            spec = ep.load()
            if not isinstance(spec, ServiceSpec):
                raise TypeError(f"{ep.value} is not a ServiceSpec")
            apps = {spec.id: spec.cli()} if spec.cli is not None else {}
            apps.update(spec.commands() if spec.commands is not None else {})
            for name in apps:
                if name in taken or name in commands:
                    raise ValueError(f"`mediaplane {name}` is already a command")
            built: dict[str, Any] = {name: typer.main.get_command(app) for name, app in apps.items()}
        except Exception as exc:
            log.warning("mediaplane: the commands of service %s are not available: %s", ep.name, exc)
            continue
        for name, command in built.items():
            command.name = name
            if getattr(command, "rich_help_panel", None) is None:
                command.rich_help_panel = SERVICES_PANEL
            commands[name] = command
    return commands


class MediaplaneGroup(TyperGroup):
    """The root group: hoists global options, reports every `CliError` the same way, adds the service groups."""

    _services_added = False
    _loaded: frozenset[str] = frozenset()  # the service plugins whose commands are added

    def _add_services(self, only: str | None = None) -> None:
        if self._services_added:
            return
        found = [ep for ep in entry_points(group=SERVICE_ENTRY_POINTS) if ep.name not in self._loaded]
        if only is not None:
            found = [ep for ep in found if ep.name == only]
        else:
            self._services_added = True
        self._loaded |= {ep.name for ep in found}
        for name, command in service_commands(found, taken=set(self.commands)).items():
            self.add_command(command, name)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and not self._services_added:
            # A service's own group loads only that plugin (each costs its imports), any other name all of them.
            self._add_services(only=cmd_name)
            command = super().get_command(ctx, cmd_name)
            if command is None:
                self._add_services()
                command = super().get_command(ctx, cmd_name)
        return command

    def list_commands(self, ctx: Any) -> list[str]:
        self._add_services()
        return list(super().list_commands(ctx))

    # `ctx` is typer's (vendored) click Context; it is typed Any to stay independent of where that lives.
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        args = hoist_global_options(args)
        ctx.meta[JSON_KEY] = "--json" in args[: args.index("--")] if "--" in args else "--json" in args
        try:
            return super().parse_args(ctx, args)
        except typer.TyperException as exc:
            self._usage_error(ctx, exc)
            raise

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as exc:
            Output(bool(ctx.meta.get(JSON_KEY))).error(exc)
            raise typer.Exit(exc.exit_code) from None
        except typer.TyperException as exc:
            self._usage_error(ctx, exc)
            raise

    @staticmethod
    def _usage_error(ctx: Any, exc: typer.TyperException) -> None:
        """With --json a usage error is `{"error": ...}` too; otherwise typer prints its usual panel."""
        if ctx.meta.get(JSON_KEY):
            Output(True).json({"error": exc.format_message()})
            raise typer.Exit(exc.exit_code) from None


app = typer.Typer(
    cls=MediaplaneGroup,
    name="mediaplane",
    help="mediaplane: a self-hostable media-services cloud. Run the server, manage tenants, tokens and instances.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    url: str | None = typer.Option(
        None, "--url", help="Server URL (env MEDIAPLANE_URL; saved by `login`; default http://127.0.0.1:8080)"
    ),
    token_: str | None = typer.Option(
        None,
        "--token",
        help="Personal access token (env MEDIAPLANE_ACCESS_TOKEN or OSC_ACCESS_TOKEN; saved by `login`)",
    ),
    json_mode: bool = typer.Option(
        False, "--json", help='Machine output: JSON on stdout, messages on stderr, errors as {"error": ...}'
    ),
    version: bool = typer.Option(
        False, "--version", "-v", callback=_print_version, is_eager=True, help="Print the version and exit"
    ),
) -> None:
    ctx.obj = CliState(url, token_, json_mode)


server.register(app)
tenant.register(app)
users.register(app)
token.register(app)
catalog.register(app)
instance.register(app)
config.register(app)
ops.register(app)


def main() -> None:
    app(prog_name="mediaplane")
