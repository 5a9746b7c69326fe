"""A relay's destinations and what it reports about them: sinks, their states, the retry policy."""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["RetryPolicy", "Sink", "SinkState", "StateCallback", "Status"]

Status = Literal["idle", "connecting", "live", "error"]


@dataclass(frozen=True)
class Sink:
    """A destination: a stable ``id`` and an ``rtmp://`` or ``rtmps://`` URL (with the stream key)."""

    id: str
    url: str


@dataclass(frozen=True)
class SinkState:
    id: str
    url: str
    status: Status
    last_error: str | None = None
    bitrate_kbps: float = 0.0
    """Kilobits per second sent over the last statistics interval (0 unless live)."""
    reconnects: int = 0
    """Connection attempts after the first one."""
    bytes_out: int = 0
    frames_out: int = 0
    """Video frames sent."""
    since: datetime | None = None
    """When ``status`` last changed (UTC)."""
    retry_in: float | None = None
    """While in ``error``: seconds until the next attempt."""
    dropped: int = 0
    """Audio and video messages skipped because this sink fell behind."""


StateCallback = Callable[[SinkState, SinkState | None], Awaitable[None]]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``initial * factor**n`` capped at ``cap``, less up to ``jitter`` of it at random.

    The jitter only shortens a delay, so delays never exceed ``cap`` and, with ``jitter`` below
    ``1 - 1/factor``, always grow until the cap. A sink that stayed live ``reset_after`` seconds
    starts again from ``initial``.
    """

    initial: float = 1.0
    factor: float = 2.0
    cap: float = 30.0
    jitter: float = 0.3
    reset_after: float = 30.0

    def delay(self, attempt: int, rng: random.Random) -> float:
        """The wait before retry number ``attempt`` (0 for the first retry)."""
        base = min(self.cap, self.initial * self.factor ** min(attempt, 64))
        return base * (1.0 - self.jitter * rng.random())
