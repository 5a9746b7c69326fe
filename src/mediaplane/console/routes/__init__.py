"""The console's pages, one module per part."""

from __future__ import annotations

from starlette.requests import Request

from mediaplane.console.security import console_root

# Messages a redirect may ask for (`?done=<key>`): fixed texts, so nothing from the URL is ever shown.
NOTICES = {
    "signed-out": "You are signed out.",
    "password": "Your password is changed. Your other sessions were signed out.",
    "revoked": "The token is revoked: it no longer works, nor do the service tokens made with it.",
    "removed": "The instance is removed, with its data.",
    "restarted": "The instance is restarted.",
    "updated": "The options are saved.",
}


def notice(request: Request) -> str | None:
    return NOTICES.get(request.query_params.get("done", ""))


def safe_next(request: Request, value: str) -> str:
    """Where to go after signing in: a console path only, never another site."""
    root = console_root(request)
    home = f"{root}/"
    ok = (
        value.startswith(home)
        and not value.startswith("//")
        and "\\" not in value
        and "//" not in value
        and value.isprintable()
        and len(value) < 2000
    )
    return value if ok else home


def plain(value: str, max_length: int = 63) -> bool:
    """A path segment that can name a row: short, printable, no NUL (which PostgreSQL refuses outright)."""
    return 0 < len(value) <= max_length and value.isprintable()
