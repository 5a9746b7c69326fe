"""A job worker process for the kit.jobs tests: the sample jobs and the kit only (no CLI, no core).

    python tests/kit/jobs/worker_main.py --database-url URL --data-dir DIR [--redis-url URL] --name NAME

Runs workers until SIGTERM or SIGINT, then stops them gracefully and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
from datetime import timedelta
from pathlib import Path

import kit_jobs_samples  # noqa: F401  (registers the sample jobs; this script's folder is on sys.path)

from mediaplane.config import Settings
from mediaplane.kit.db import create_database
from mediaplane.kit.jobs import create_job_queue


async def serve(options: argparse.Namespace) -> None:
    settings = Settings(
        data_dir=Path(options.data_dir),
        database_url=options.database_url,
        redis_url=options.redis_url or None,
        job_lease=timedelta(seconds=options.lease),
    )
    db = create_database(options.database_url)
    queue = create_job_queue(
        settings, db, name=options.name, retry_delay=timedelta(seconds=0.1), shutdown_grace=timedelta(seconds=1)
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    try:
        queue.start_workers(options.workers)
        print("ready", flush=True)
        await stop.wait()
    finally:
        await queue.close()
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--redis-url", default="")
    parser.add_argument("--name", required=True)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--lease", type=float, default=2.0)
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(threadName)s %(name)s %(message)s")
    asyncio.run(serve(options))


if __name__ == "__main__":
    main()
