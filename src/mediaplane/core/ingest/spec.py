"""What a service declares to take live RTMP publishes: admission, outputs to relay to, and state reports.

The platform runs one RTMP ingest (nginx-rtmp) for every service: a publish to
`rtmp://HOST:PORT/<app>/<key>` is admitted or refused by the service that owns `<app>`, and the
outputs it names are fed by the platform's relay, which reports each output's state back.
"""

from __future__ import annotations

import socket
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from mediaplane.kit.rtmp.sinks import SinkState, Status

if TYPE_CHECKING:
    from mediaplane.core.runtime import Runtime

# An output's state as the relay reports it: status, last error, bitrate over the last few seconds, reconnects.
OutputState = SinkState
OutputStatus = Status


@dataclass(frozen=True)
class Publish:
    """One publish attempt as the ingest saw it."""

    app: str
    key: str
    addr: str = ""
    client_id: str = ""
    args: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Output:
    """Where a live stream is relayed: `id` is stable for the session (a destination id), `url` rtmp(s)://."""

    id: str
    url: str


@dataclass(frozen=True)
class Admission:
    """A publish let in: `ref` is the service's own id for the live thing (a stream id)."""

    ref: str
    outputs: tuple[Output, ...] = ()


class Refused(Exception):
    """A publish kept out; `reason` is one of unknown|inactive|in_use|invalid, `message` says why."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class SessionEnd:
    """Why a live session ended: done (publisher left), dropped (kicked), lost (ingest restarted or silent)."""

    reason: Literal["done", "dropped", "lost"]
    message: str = ""


class IngestHandler(ABC):
    """A service's side of the ingest. Every method may be called in any process that runs the ingest."""

    #: The RTMP application name that is this service's: rtmp://HOST:PORT/<app>/<key>.
    app: str
    #: Whether live streams of this app have an HLS preview (written while watched: core.ingest.preview).
    hls: bool = True

    @abstractmethod
    async def admit(self, runtime: Runtime, publish: Publish) -> Admission:
        """Let a publish in (mark it live) or raise Refused; fail closed on any doubt."""

    @abstractmethod
    async def outputs(self, runtime: Runtime, key: str, ref: str) -> tuple[Output, ...]:
        """The outputs a live session should feed now (read again after IngestControl.refresh)."""

    @abstractmethod
    async def still_allowed(self, runtime: Runtime, key: str, ref: str) -> bool:
        """Asked every few seconds while live (heartbeat); False drops the publisher."""

    @abstractmethod
    async def ended(self, runtime: Runtime, key: str, ref: str, end: SessionEnd) -> None:
        """The session is over: mark it not live."""

    @abstractmethod
    async def output_changed(
        self, runtime: Runtime, ref: str, state: OutputState, previous: OutputState | None
    ) -> None:
        """An output's state changed (status, error, or a bitrate update every few seconds)."""

    async def reset(self, runtime: Runtime, node: str) -> None:
        """The ingest on `node` (re)started: every session it held is gone."""
        return None


def node_name(runtime: Runtime) -> str:
    """This ingest's name in the services' live state: INGEST_NODE, or the host name."""
    return runtime.settings.ingest_node or socket.gethostname()
