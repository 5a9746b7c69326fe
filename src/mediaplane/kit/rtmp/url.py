"""RTMP URLs as FFmpeg and OBS take them: ``rtmp[s]://host[:port]/app[/more/parts]/name[?query]``.

The application is the first path segment and everything after it, query included, is the stream
name (``rtmp://a.rtmp.youtube.com/live2/abcd-efgh`` → app ``live2``, name ``abcd-efgh``). Where a
service's application has several segments, pass ``app`` to split explicitly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from mediaplane.kit.rtmp.errors import RtmpUrlError

__all__ = ["DEFAULT_PORTS", "RtmpUrl", "parse_rtmp_url"]

DEFAULT_PORTS: Final = {"rtmp": 1935, "rtmps": 443}


@dataclass(frozen=True, slots=True)
class RtmpUrl:
    scheme: str
    """``rtmp`` or ``rtmps`` (TLS)."""
    host: str
    port: int
    app: str
    name: str
    """The stream name (or key), with its query if it had one."""
    explicit_port: bool = False

    @property
    def tls(self) -> bool:
        return self.scheme == "rtmps"

    @property
    def tc_url(self) -> str:
        """The ``tcUrl`` of the connect command: the URL up to the application."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        port = f":{self.port}" if self.explicit_port else ""
        return f"{self.scheme}://{host}{port}/{self.app}"

    def __str__(self) -> str:
        return f"{self.tc_url}/{self.name}"

    def redacted(self) -> str:
        """The URL without its stream name, which is a secret key on most services (for logs)."""
        return f"{self.tc_url}/…"


def parse_rtmp_url(url: str, *, app: str | None = None) -> RtmpUrl:
    """Split ``url`` into host, port, application and stream name; raises RtmpUrlError."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise RtmpUrlError(f"not a valid RTMP URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise RtmpUrlError(f"an RTMP URL starts with rtmp:// or rtmps://, not {parts.scheme or 'nothing'}://")
    if not parts.hostname:
        raise RtmpUrlError("the RTMP URL has no host")
    path = parts.path.lstrip("/")
    if app is not None:
        app = app.strip("/")
        if not app or not path.startswith(app + "/"):
            raise RtmpUrlError(f"the RTMP URL's path does not start with the application {app!r}")
        name = path[len(app) + 1 :]
    else:
        app, _, name = path.partition("/")
    if parts.query:
        name = f"{name}?{parts.query}"
    if parts.fragment:  # a '#' in a stream key is the key's, not a fragment
        name = f"{name}#{parts.fragment}"
    if not app:
        raise RtmpUrlError("the RTMP URL has no application (rtmp://host/app/stream)")
    if not name:
        raise RtmpUrlError("the RTMP URL has no stream name (rtmp://host/app/stream)")
    return RtmpUrl(
        scheme=scheme,
        host=parts.hostname,
        port=port or DEFAULT_PORTS[scheme],
        app=app,
        name=name,
        explicit_port=port is not None,
    )
