"""The exceptions kit.jobs raises: a small documented tree."""

from __future__ import annotations

import asyncio


class JobError(Exception):
    """Base of the errors raised by the job facade (bad names, bad arguments)."""


class UnknownJobError(JobError, LookupError):
    """No job of that name is registered (a typo, or the module with the `@job` was never imported)."""


class JobCancelled(asyncio.CancelledError):
    """Raised inside a job by `ctx.check_cancelled()` once a cancel was requested.

    It is an `asyncio.CancelledError`, so `except Exception` in job code does not swallow it, and a job
    sees the same exception whether it polls (`check_cancelled`) or is interrupted at an `await`.
    """


class JobDeferred(Exception):
    """Raised by a job that cannot run yet (e.g. its owner's concurrency is used up): it is queued again
    to run after `delay` seconds, and this attempt does not count against `max_attempts`."""

    def __init__(self, delay: float, reason: str = "deferred") -> None:
        super().__init__(reason)
        self.delay = max(float(delay), 0.0)
