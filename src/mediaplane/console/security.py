"""Cookies, the same-origin check and the headers every console answer carries."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from mediaplane.config import Settings

CONSOLE_PATH = "/console"  # where create_app mounts the console
SESSION_COOKIE = "mediaplane_console"
SIGN_IN_COOKIE = "mediaplane_console_signin"
SIGN_IN_COOKIE_AGE = 3600
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
        "frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def console_root(conn: HTTPConnection) -> str:
    """The console's path prefix (e.g. `/console`), as mounted."""
    root: str = conn.scope.get("root_path", "")
    return root.rstrip("/")


def platform_root(conn: HTTPConnection) -> str:
    """The platform's path prefix: the console's, without the console's own segment."""
    root = console_root(conn)
    return root[: -len(CONSOLE_PATH)] if root.endswith(CONSOLE_PATH) else ""


def cookie_path(conn: HTTPConnection) -> str:
    # Only the console's own pages get its cookies, not the APIs on the same origin.
    return console_root(conn) or "/"


def origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_https(conn: HTTPConnection, settings: Settings) -> bool:
    """The request came over https (a trusted proxy's X-Forwarded-Proto counts: uvicorn applies it to the
    scope), or the configured public URL is https."""
    return conn.url.scheme == "https" or (settings.public_url or "").lower().startswith("https://")


def allowed_origins(conn: HTTPConnection, settings: Settings) -> set[str]:
    own = f"{conn.url.scheme}://{conn.url.netloc}".lower()
    public = origin_of(settings.public_url) if settings.public_url else None
    return {own} | ({public} if public else set())


def same_origin(request: Request, settings: Settings) -> bool:
    """Origin (or, without it, Referer) must be this server; a request with neither still needs its token."""
    allowed = allowed_origins(request, settings)
    origin = request.headers.get("origin")
    if origin is not None:
        return origin.lower() in allowed
    referer = request.headers.get("referer")
    if referer is not None:
        return origin_of(referer) in allowed
    return True


def set_cookie(response: Response, conn: HTTPConnection, settings: Settings, name: str, value: str, age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=age,
        path=cookie_path(conn),
        secure=is_https(conn, settings),
        httponly=True,
        samesite="strict",
    )


def set_session_cookie(response: Response, conn: HTTPConnection, settings: Settings, session_id: str) -> None:
    age = int(settings.console_session_lifetime.total_seconds())
    set_cookie(response, conn, settings, SESSION_COOKIE, session_id, age)


def clear_cookie(response: Response, conn: HTTPConnection, settings: Settings, name: str) -> None:
    response.delete_cookie(
        name, path=cookie_path(conn), secure=is_https(conn, settings), httponly=True, samesite="strict"
    )
