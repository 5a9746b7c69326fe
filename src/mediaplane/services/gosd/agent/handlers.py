"""The methods a node answers: a registry of async handlers that a device integration (or a simulator) fills.

    handlers = Handlers()

    @handlers.method("takeoff")
    async def takeoff(params: Params) -> Any:
        ...

A handler gets the request's `params` (an object, a list or None) and returns the JSON-RPC result. It raises
`InvalidParams` for bad params (-32602), `RpcError` for a code of its own, and any other exception becomes
-32000 with the exception's message. Notifications (requests without an id) run the same handlers; their
result is not sent.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

Params = dict[str, Any] | list[Any] | None
Handler = Callable[[Params], Awaitable[Any]]

METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
SERVER_ERROR = -32000


class RpcError(Exception):
    """A JSON-RPC error answer with its own code."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


class InvalidParams(RpcError):
    def __init__(self, message: str) -> None:
        super().__init__(INVALID_PARAMS, f"Invalid params: {message}")


class Handlers:
    """Method name → handler. Later registrations replace earlier ones, so an integration can override a few
    methods of a simulator with `handlers.update(mine)`."""

    def __init__(self) -> None:
        self._by_name: dict[str, Handler] = {}

    def method(self, name: str) -> Callable[[Handler], Handler]:
        def register(fn: Handler) -> Handler:
            self.add(name, fn)
            return fn

        return register

    def add(self, name: str, fn: Handler) -> None:
        if not name:
            raise ValueError("a method needs a name")
        self._by_name[name] = fn

    def update(self, other: Handlers) -> None:
        self._by_name.update(other._by_name)

    def get(self, name: str) -> Handler | None:
        return self._by_name.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._by_name))

    def __len__(self) -> int:
        return len(self._by_name)


def params_object(params: Params) -> dict[str, Any]:
    """The params as an object ({} when absent); a list is refused."""
    if params is None:
        return {}
    if not isinstance(params, dict):
        raise InvalidParams("expected an object")
    return params


def number(params: dict[str, Any], name: str, *, default: float | None = None, low: float, high: float) -> float:
    """A number param within [low, high]; `default` when absent (required when there is no default)."""
    value = params.get(name)
    if value is None:
        if default is None:
            raise InvalidParams(f"{name} is required")
        return default
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidParams(f"{name} must be a number")
    if not low <= value <= high:
        raise InvalidParams(f"{name} must be between {low:g} and {high:g}")
    return float(value)
