"""The registry of named job functions, filled by `@job` when a module is imported.

Services list their job modules in their `ServiceSpec.job_modules`; the catalog imports them, so every
process that opens the runtime (API or worker) knows the same names.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

from mediaplane.kit.jobs.errors import UnknownJobError

JobResult = dict[str, Any] | None
JobFunction = Callable[..., Awaitable[JobResult]]
F = TypeVar("F", bound=JobFunction)

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


@dataclass(frozen=True)
class JobDefinition:
    """A registered job: its name (`"<owner>.<verb>"`), its async function and its retry/timeout policy."""

    name: str
    function: JobFunction
    max_attempts: int = 3
    timeout: timedelta | None = None

    def check_args(self, args: Mapping[str, Any]) -> None:
        """Raises TypeError when `args` do not fit the function's keyword parameters."""
        try:
            inspect.signature(self.function).bind(None, **args)
        except TypeError as exc:
            raise TypeError(f"job {self.name}: {exc}") from None


class JobRegistry:
    def __init__(self) -> None:
        self._definitions: dict[str, JobDefinition] = {}

    def register(self, definition: JobDefinition) -> None:
        current = self._definitions.get(definition.name)
        if current is not None and _origin(current.function) != _origin(definition.function):
            raise ValueError(f"job {definition.name} is already registered by {'.'.join(_origin(current.function))}")
        self._definitions[definition.name] = definition

    def get(self, name: str) -> JobDefinition | None:
        return self._definitions.get(name)

    def require(self, name: str) -> JobDefinition:
        definition = self._definitions.get(name)
        if definition is None:
            raise UnknownJobError(f"no job named {name!r} is registered")
        return definition

    def __contains__(self, name: object) -> bool:
        return name in self._definitions

    def names(self) -> list[str]:
        return sorted(self._definitions)


def _origin(function: JobFunction) -> tuple[str, str]:
    # The same function imported twice (a module reloaded) registers again without complaint.
    return (function.__module__, function.__qualname__)


default_registry = JobRegistry()


def job(
    name: str,
    *,
    max_attempts: int = 3,
    timeout: timedelta | float | None = None,
    registry: JobRegistry | None = None,
) -> Callable[[F], F]:
    """Registers an async function as the durable job `name`; the function itself is returned unchanged.

    The function is called as `await fn(ctx, **args)`, takes ids rather than objects, opens its own
    sessions through `ctx.db`, and must be safe to run again (a job may be retried or taken over after
    its worker died). It returns a JSON object (stored as the job's result) or None.
    """
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(f"job name {name!r} must look like 'owner.verb' (lower case, dot separated)")
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    limit = timedelta(seconds=timeout) if isinstance(timeout, int | float) else timeout
    if limit is not None and limit <= timedelta(0):
        raise ValueError("timeout must be positive")

    def decorator(function: F) -> F:
        is_async = inspect.iscoroutinefunction(function)  # kept apart: a TypeGuard would narrow F away
        if not is_async:
            raise TypeError(f"job {name}: {function.__qualname__} must be an async function")
        (registry or default_registry).register(JobDefinition(name, function, max_attempts, limit))
        return function

    return decorator


def registered_jobs() -> list[str]:
    """The names known to this process."""
    return default_registry.names()
