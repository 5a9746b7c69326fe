"""Thread helpers."""

from __future__ import annotations

import contextlib
import os
import threading

__all__ = ["lower_priority"]


def lower_priority(niceness: int) -> None:
    """Makes the calling thread (and the threads it starts later, which inherit it) `niceness` nicer.

    On Linux a thread is scheduled on its own, so this leaves the rest of the process as it was; elsewhere, or
    where it is not allowed, it does nothing: a priority is a preference, never a reason to fail."""
    with contextlib.suppress(AttributeError, OSError):
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + niceness)
