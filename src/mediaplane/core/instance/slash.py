"""A trailing slash optional on every route of a service's API: its clients send both forms."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class OptionalSlash:
    """`/plans` and `/plans/` are the same route, answered directly (no redirect, which some clients do
    not follow on a POST)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            root = scope.get("root_path", "")
            path: str = scope["path"]
            under_root = bool(root) and path.startswith(root)
            inner = path[len(root) :] if under_root else path
            trimmed = inner.rstrip("/") or "/"
            if trimmed != inner:
                scope = {**scope, "path": (root if under_root else "") + trimmed}
        await self.app(scope, receive, send)
