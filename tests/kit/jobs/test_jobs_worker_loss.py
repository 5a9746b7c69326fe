"""A worker process killed with SIGKILL mid-job: its lease runs out, and another worker process takes the
job again and finishes it. This is what the lease and the reaper are for."""

from __future__ import annotations

from pathlib import Path

from kit_jobs_support import Backend, WorkerProcess, enqueue, make_queue, state_is, wait_for_job, wait_until

from mediaplane.kit.db import Database


def started_by(path: Path) -> list[tuple[int, int]]:
    """(attempt, pid) of every start the job reported."""
    if not path.exists():
        return []
    return [(int(a), int(p)) for a, p in (line.split() for line in path.read_text().splitlines())]


async def test_job_of_a_killed_worker_is_taken_over(backend: Backend, db: Database, tmp_path: Path) -> None:
    started, release = tmp_path / "started", tmp_path / "release"
    sender = make_queue(backend, db)  # this process only enqueues; the workers are other processes
    workers = [WorkerProcess(backend, tmp_path, label) for label in ("a", "b")]
    try:
        job_id = await enqueue(sender, db, "samples.wait", {"started": str(started), "release": str(release)})
        await wait_until(lambda: bool(started_by(started)), "a worker process to start the job")
        [(attempt, pid)] = started_by(started)
        assert attempt == 1
        victim = next(w for w in workers if w.pid == pid)
        survivor = next(w for w in workers if w.pid != pid)
        victim.kill()
        release.touch()

        done = await wait_for_job(db, job_id, state_is("succeeded"))
        assert done.attempts == 2
        assert done.result == {"attempt": 2, "pid": survivor.pid}
        assert done.worker is not None
        assert f":{survivor.pid}:" in done.worker
        assert started_by(started) == [(1, victim.pid), (2, survivor.pid)]
        assert await survivor.stop() == 0, survivor.output()
    except BaseException:
        for worker in workers:
            print(f"--- worker {worker.pid} ---\n{worker.output()}")
        raise
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                await worker.stop()
        await sender.close()
