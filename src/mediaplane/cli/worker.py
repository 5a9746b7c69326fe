"""`mediaplane worker`: job workers in a process of their own (the scale-out shape), until a signal.

The process opens the runtime (which migrates the database), starts the workers and waits for SIGINT or
SIGTERM. Then it stops taking jobs, lets running ones finish within the queue's grace period and hands
the rest back to the queue for another worker. A second signal during that stop ends the process at once;
the jobs it held come back through their expired leases.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from mediaplane.config import Settings
from mediaplane.core.catalog import Registry

log = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def run_worker(settings: Settings, workers: int, registry: Registry | None = None) -> None:
    """Runs `workers` job worker threads in this process until SIGINT or SIGTERM; blocks until stopped."""
    if workers < 1:
        raise ValueError("a worker process needs at least one worker")
    asyncio.run(_serve(settings, workers, registry))


async def _serve(settings: Settings, workers: int, registry: Registry | None) -> None:
    from mediaplane.core.runtime import open_runtime

    runtime = await open_runtime(settings, registry=registry)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        runtime.jobs.start_workers(workers)
        log.info("worker process running %d job workers; stop with SIGINT or SIGTERM", workers)
        await stop.wait()
        log.info("stopping: running jobs get a moment to finish, the rest go back to the queue")
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
        await runtime.close()
