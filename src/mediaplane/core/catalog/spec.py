"""What a service declares to the platform: its id, texts, instance options, sub-app and hooks."""

from __future__ import annotations

import re
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.types import ASGIApp

    from mediaplane.console.plugin import ConsolePlugin
    from mediaplane.core.ingest.spec import IngestHandler
    from mediaplane.core.instance.models import Instance
    from mediaplane.core.runtime import Runtime

OptionType = Literal["string", "enum", "boolean", "list"]
# Keys of the instance object that options would shadow.
RESERVED_OPTION_NAMES = frozenset({"name", "url", "status", "created", "resources", "_links"})


@dataclass(frozen=True)
class InstanceOption:
    name: str
    label: str
    type: OptionType = "string"
    mandatory: bool = False
    description: str = ""
    enums: tuple[str, ...] = ()
    regex_validator: str | None = None
    default: Any = None
    secret: bool = False
    # Makes the value when the creator gives none (e.g. a strong random password): unlike `default`, each
    # instance gets its own, kept in its options (a secret one is shown once, in the answer to the create call).
    generate: Callable[[], Any] | None = None

    def validate(self, value: Any) -> Any:
        """Returns the value in its stored form, or raises ValueError with a message for the user."""
        if self.type == "boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
                return value.lower() in ("true", "1", "yes")
            raise ValueError(f"option {self.name} must be a boolean")
        if self.type == "list":
            if isinstance(value, str):
                value = [item.strip() for item in value.split(",") if item.strip()]
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ValueError(f"option {self.name} must be a list of strings")
            return value
        if not isinstance(value, str):
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"option {self.name} must be a string")
            value = str(value)
        if self.type == "enum" and value not in self.enums:
            raise ValueError(f"option {self.name} must be one of: {', '.join(self.enums)}")
        if self.regex_validator and value and not re.fullmatch(self.regex_validator, value):
            raise ValueError(f"option {self.name} does not match {self.regex_validator}")
        return value

    def describe(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "mandatory": self.mandatory,
            "description": self.description,
        }
        if self.enums:
            data["enums"] = list(self.enums)
        if self.regex_validator:
            data["regexValidator"] = self.regex_validator
        if self.default is not None:
            data["default"] = self.default
        if self.generate is not None:
            data["generated"] = True
        return data


@dataclass
class InstanceContext:
    """What a hook gets: the instance, the open session (same transaction as the API call) and the runtime."""

    instance: Instance
    session: AsyncSession
    runtime: Runtime


class ServiceHooks:
    """Override what the service needs; the defaults suit a service with nothing to start or stop."""

    async def on_create(self, ctx: InstanceContext) -> None:
        return None

    async def on_update(self, ctx: InstanceContext, changed: dict[str, Any]) -> None:
        return None

    async def on_delete(self, ctx: InstanceContext) -> None:
        """Stop the instance's work; its rows go with the instance and its files are purged after."""
        return None

    async def on_restart(self, ctx: InstanceContext) -> None:
        return None

    async def health(self, ctx: InstanceContext) -> str | None:
        """A live status (starting|running|stopped|failed) or None to use the stored one."""
        return None

    async def ports(self, ctx: InstanceContext) -> list[dict[str, Any]]:
        return []

    def resources(self, instance: Instance, instance_url: str) -> dict[str, Any]:
        """Service-specific entries of the instance object's `resources` (e.g. Encore's enqueueJob)."""
        return {}


@dataclass
class ServiceSpec:
    id: str
    title: str
    description: str
    build_app: Callable[[], ASGIApp]
    options: list[InstanceOption] = field(default_factory=list)
    hooks: ServiceHooks = field(default_factory=ServiceHooks)
    instance_noun: str = "instance"
    category: str = "Media"
    keywords: tuple[str, ...] = ()
    docs_url: str | None = None
    repo_url: str | None = None
    license: str = "Apache-2.0"
    migrations: Path | None = None
    # Modules to import so their tables are in the metadata; tables are named `<serviceId>_<noun>`.
    model_modules: tuple[str, ...] = ()
    job_modules: tuple[str, ...] = ()
    error_body: Callable[[int, str], dict[str, Any]] | None = None
    # Returns the service's `typer.Typer`, added to the CLI as `mediaplane <id> ...`; it runs on every CLI start
    # that needs it, so the module it imports should import only light things (typer, rich, httpx).
    cli: Callable[[], Any] | None = None
    # Returns top-level commands beside that group, by name (`mediaplane <name>`), each a `typer.Typer` with one
    # command (gosd's `gosd-agent`, which runs on devices); the same rule on imports as `cli`.
    commands: Callable[[], dict[str, Any]] | None = None
    # Returns the service's side of the live RTMP ingest (publishes to rtmp://HOST:PORT/<handler.app>/<key>).
    ingest: Callable[[], IngestHandler] | None = None
    # What the service runs beside the API for as long as a serving process lives (a broker, a watcher).
    # Entered after the runtime is open, left before it closes; `mediaplane worker` processes do not run it.
    background: Callable[[Runtime], AbstractAsyncContextManager[None]] | None = None
    # Returns the service's dashboard in the web console (a router mounted at /console/<serviceId>/<instance>/,
    # its templates, a label): see mediaplane.console.plugin. Called once, when the app is built.
    console: Callable[[], ConsolePlugin] | None = None

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9]*", self.id):
            raise ValueError(f"service id {self.id!r} must match ^[a-z][a-z0-9]*$")
        reserved = RESERVED_OPTION_NAMES.intersection(o.name for o in self.options)
        if reserved:
            raise ValueError(f"service {self.id}: option names {sorted(reserved)} are reserved")

    def option(self, name: str) -> InstanceOption | None:
        return next((o for o in self.options if o.name == name), None)
