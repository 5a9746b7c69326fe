"""Scale-out: API and workers as separate processes on PostgreSQL, Redis and S3. A worker machine dies in the
middle of an encode (its whole process group is SIGKILLed, FFmpeg included); another worker runs the job again and
it ends SUCCESSFUL once, with its outputs stored once. A cancel from the API reaches a job on a worker process."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from tests.e2e.test_scale_out import Processes, _s3_keys, _wait_until, create_tenant, environment
from tests.fixtures.databases import pg_url

pytestmark = pytest.mark.timeout(300)
__all__ = ["environment"]  # the fixture, imported for this module's tests


class Cluster:
    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env, self.tmp = env, tmp
        self.procs = Processes(env, tmp)
        self.base = ""
        self.headers: dict[str, str] = {}

    def start_api(self) -> None:
        self.base = self.procs.start_api()
        pat = create_tenant(self.env, self.tmp)
        r = httpx.post(
            f"{self.base}/servicetoken", headers={"x-pat-jwt": f"Bearer {pat}"}, json={"serviceId": "encore"}
        )
        self.headers = {"x-jwt": f"Bearer {r.json()['token']}"}

    def instance(self, profiles_url: str) -> str:
        r = httpx.post(
            f"{self.base}/encoreinstance", headers=self.headers, json={"name": "q", "profilesUrl": profiles_url}
        )
        assert r.status_code == 200, r.text
        url: str = r.json()["url"]
        return url

    def job(self, url: str, job_id: str) -> dict[str, Any]:
        data: dict[str, Any] = httpx.get(f"{url}encoreJobs/{job_id}", headers=self.headers).json()
        return data


async def _runs(database: str, job_id: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(pg_url(database))
    try:
        return await conn.fetch(
            "SELECT state, attempts, worker FROM jobs WHERE name = 'encore.transcode' AND args->>'job_id' = $1",
            job_id,
        )
    finally:
        await conn.close()


def test_a_killed_worker_machine_loses_no_job(environment: dict[str, str], tmp_path: Path, media_server: str) -> None:
    cluster = Cluster(environment, tmp_path)
    try:
        cluster.start_api()
        url = cluster.instance(f"{media_server}/media/profiles.yml")
        first = cluster.procs.start("worker", group=True)
        body = {
            "profile": "medium",
            "outputFolder": "/usercontent/out",
            "baseName": "long_",
            "inputs": [{"uri": f"{media_server}/media/long.mp4", "type": "AudioVideo"}],
        }
        job_id = httpx.post(f"{url}encoreJobs", headers=cluster.headers, json=body).json()["id"]
        _wait_until(lambda: cluster.job(url, job_id)["progress"] >= 10, "the first worker to be well into the job")
        os.killpg(first.pid, signal.SIGKILL)  # the machine is gone: worker and FFmpeg alike
        first.wait()
        assert cluster.job(url, job_id)["status"] == "IN_PROGRESS"

        cluster.procs.start("worker")
        _wait_until(lambda: cluster.job(url, job_id)["status"] != "IN_PROGRESS", "the job to end", timeout=240)
        job = cluster.job(url, job_id)
        assert job["status"] == "SUCCESSFUL", job["message"]
        assert [o["file"] for o in job["output"]] == ["/usercontent/out/long__x264_720.mp4"]
        assert job["output"][0]["duration"] == pytest.approx(20.0, abs=0.2)
        (run,) = asyncio.run(_runs(environment["PGDATABASE"], job_id))
        assert (run["state"], run["attempts"]) == ("succeeded", 2)
        stored = [key for key in _s3_keys(environment, "instances/") if "/usercontent/out/" in key]
        assert [key.rsplit("/", 1)[1] for key in stored] == ["long__x264_720.mp4"]

        # A cancel sent to the API stops the encode on the worker process.
        again = httpx.post(f"{url}encoreJobs", headers=cluster.headers, json={**body, "baseName": "again_"}).json()
        _wait_until(lambda: cluster.job(url, again["id"])["status"] == "IN_PROGRESS", "the second job to start")
        assert httpx.post(f"{url}encoreJobs/{again['id']}/cancel", headers=cluster.headers).status_code == 200
        _wait_until(lambda: cluster.job(url, again["id"])["status"] == "CANCELLED", "the cancel", timeout=60)
    finally:
        cluster.procs.stop()
