"""The scale-out shape: an API process and a worker process apart, on PostgreSQL, Redis and S3."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import boto3
import httpx
import pytest
import redis

from tests.fixtures.databases import pg_admin, pg_available, pg_url
from tests.fixtures.required import require_or_skip
from tests.fixtures.s3 import S3_ACCESS_KEY_ID, S3_REGION, S3_SECRET_ACCESS_KEY
from tests.fixtures.servers import free_port

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/14"


def _wait_until(predicate: object, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def environment(tmp_path: Path, s3_server: str) -> Iterator[dict[str, str]]:
    error = pg_available()
    if error is not None:
        require_or_skip("PostgreSQL at 127.0.0.1:5432", error)
    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
    except redis.RedisError as exc:
        require_or_skip("Redis at 127.0.0.1:6379", exc)
    name = f"mp_e2e_{uuid.uuid4().hex[:10]}"
    asyncio.run(pg_admin(f'CREATE DATABASE "{name}"'))
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MEDIAPLANE_DATABASE_URL": pg_url(name).replace("postgresql://", "postgresql+asyncpg://"),
        "MEDIAPLANE_REDIS_URL": REDIS_URL,
        "MEDIAPLANE_STORAGE": "s3",
        "MEDIAPLANE_S3_ENDPOINT": s3_server,
        "MEDIAPLANE_S3_BUCKET": f"e2e-{uuid.uuid4().hex[:8]}",
        "MEDIAPLANE_S3_REGION": S3_REGION,
        "MEDIAPLANE_S3_ACCESS_KEY_ID": S3_ACCESS_KEY_ID,
        "MEDIAPLANE_S3_SECRET_ACCESS_KEY": S3_SECRET_ACCESS_KEY,
        "MEDIAPLANE_SECRET_KEY": uuid.uuid4().hex * 2,
        "MEDIAPLANE_JOB_LEASE": "5",
        "MEDIAPLANE_LOG_LEVEL": "WARNING",
        "PGDATABASE": name,
    }
    env.pop("MEDIAPLANE_URL", None)
    env.pop("MEDIAPLANE_ACCESS_TOKEN", None)
    try:
        yield env
    finally:
        asyncio.run(pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        redis.Redis.from_url(REDIS_URL).flushdb()


class Processes:
    def __init__(self, env: dict[str, str], tmp: Path) -> None:
        self.env, self.tmp, self.procs = env, tmp, list[subprocess.Popen[bytes]]()

    def start(self, role: str, *args: str, group: bool = False) -> subprocess.Popen[bytes]:
        """Starts `serve PORT` or `worker`; with `group`, in a process group of its own (to kill it whole)."""
        data = self.tmp / f"{role}-{len(self.procs)}"
        log = (self.tmp / f"{role}-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.processes", role, *args],
            env={**self.env, "MEDIAPLANE_DATA_DIR": str(data)},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=group,
        )
        self.procs.append(proc)
        return proc

    def start_api(self) -> str:
        """Starts the API process on a free port and waits until it answers; returns its base URL."""
        base = f"http://127.0.0.1:{free_port()}"
        api = self.start("serve", base.rsplit(":", 1)[1])
        log = self.tmp / f"serve-{len(self.procs) - 1}.log"

        def up() -> bool:
            assert api.poll() is None, log.read_text()
            try:
                return httpx.get(f"{base}/health").status_code == 200
            except httpx.TransportError:
                return False

        _wait_until(up, "the API process")
        return base

    def stop(self) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def create_tenant(env: dict[str, str], tmp: Path, name: str = "acme") -> str:
    """Creates a tenant with the CLI against the shared database, as an operator would; returns its PAT."""
    (tmp / "cli").mkdir(exist_ok=True)
    created = subprocess.run(
        [sys.executable, "-m", "mediaplane", "tenants", "create", name, "--data", str(tmp / "cli"), "--quiet"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return created.stdout.strip()


def _s3_keys(env: dict[str, str], prefix: str) -> list[str]:
    s3 = boto3.client(
        "s3",
        endpoint_url=env["MEDIAPLANE_S3_ENDPOINT"],
        region_name=S3_REGION,
        aws_access_key_id=S3_ACCESS_KEY_ID,
        aws_secret_access_key=S3_SECRET_ACCESS_KEY,
    )
    listing = s3.list_objects_v2(Bucket=env["MEDIAPLANE_S3_BUCKET"], Prefix=prefix)
    return [item["Key"] for item in listing.get("Contents", [])]


async def _purge_jobs(database: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(pg_url(database))
    try:
        return await conn.fetch("SELECT state, worker FROM jobs WHERE name = 'core.instance_purge'")
    finally:
        await conn.close()


def test_api_and_worker_apart(environment: dict[str, str], tmp_path: Path) -> None:
    env = environment
    procs = Processes(env, tmp_path)
    try:
        base = procs.start_api()
        pat = create_tenant(env, tmp_path)
        sat = httpx.post(
            f"{base}/servicetoken", headers={"x-pat-jwt": f"Bearer {pat}"}, json={"serviceId": "notes"}
        ).json()["token"]
        h = {"x-jwt": f"Bearer {sat}"}
        instance = httpx.post(f"{base}/notesinstance", headers=h, json={"name": "box"}).json()
        assert httpx.put(f"{instance['url']}notes/a", headers=h, json={"text": "in s3"}).status_code == 201
        assert httpx.get(f"{instance['url']}notes/a", headers=h).json()["text"] == "in s3"
        stored = _s3_keys(env, "instances/")
        assert any(key.endswith("/notes/a") for key in stored)
        prefix = stored[0].split("/notes/")[0].rsplit("/", 1)[0] + "/"

        # No worker yet: the purge job waits in the queue.
        assert httpx.delete(f"{base}/notesinstance/box", headers=h).status_code == 204
        time.sleep(1)
        assert _s3_keys(env, prefix)
        assert [r["state"] for r in asyncio.run(_purge_jobs(env["PGDATABASE"]))] == ["queued"]

        procs.start("worker")
        _wait_until(lambda: not _s3_keys(env, prefix), "the worker process to purge the instance's files")
        _wait_until(
            lambda: [r["state"] for r in asyncio.run(_purge_jobs(env["PGDATABASE"]))] == ["succeeded"],
            "the purge job to be recorded as succeeded",
        )
        (row,) = asyncio.run(_purge_jobs(env["PGDATABASE"]))
        assert row["worker"]
        assert httpx.get(f"{base}/ready").json()["checks"] == {"database": "ok", "queue": "ok"}
    finally:
        procs.stop()
