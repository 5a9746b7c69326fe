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
