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
from typing import Any

import asyncpg
import boto3
import httpx
import pytest
import redis

from tests.fixtures.databases import pg_admin, pg_available, pg_url
from tests.fixtures.live import RtmpReceiver, publishing
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
        "MEDIAPLANE_RTMP_ENABLED": "false",  # only the process that runs the ingest says otherwise
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

    def start(
        self, role: str, *args: str, group: bool = False, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """Starts `serve PORT` or `worker`; with `group`, in a process group of its own (to kill it whole)."""
        data = self.tmp / f"{role}-{len(self.procs)}"
        log = (self.tmp / f"{role}-{len(self.procs)}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.e2e.processes", role, *args],
            env={**self.env, "MEDIAPLANE_DATA_DIR": str(data), **(env or {})},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=group,
        )
        self.procs.append(proc)
        return proc

    def start_api(self, env: dict[str, str] | None = None) -> str:
        """Starts the API process on a free port and waits until it answers; returns its base URL."""
        port = str(free_port())
        base = f"http://127.0.0.1:{port}"
        api = self.start("serve", port, env={"MEDIAPLANE_PORT": port, **(env or {})})
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


def test_rig_api_and_ingest_apart(environment: dict[str, str], tmp_path: Path) -> None:
    """rig's API on one process, the RTMP ingest on another: state, drops and previews cross over."""
    env = environment
    receiver = RtmpReceiver(tmp_path / "youtube").start()
    procs = Processes(env, tmp_path)
    rtmp_port = free_port()
    try:
        api = procs.start_api()
        procs.start_api(
            env={
                "MEDIAPLANE_RTMP_ENABLED": "true",
                "MEDIAPLANE_RTMP_PORT": str(rtmp_port),
                "MEDIAPLANE_INGEST_NODE": "ingest-a",
                "MEDIAPLANE_RTMP_HEARTBEAT_SECONDS": "2",
            }
        )
        pat = create_tenant(env, tmp_path)
        sat = httpx.post(f"{api}/servicetoken", headers={"x-pat-jwt": f"Bearer {pat}"}, json={"serviceId": "rig"})
        made = httpx.post(
            f"{api}/riginstance",
            headers={"x-jwt": f"Bearer {sat.json()['token']}"},
            json={"name": "tv", "youtubeUrl": receiver.base_url},
        )
        assert made.status_code == 200, made.text
        rig = f"{api}/rig/acme-tv"
        account = {"username": "alice", "password": "a-long-password-1", "email": "alice@example.com"}
        assert httpx.post(f"{rig}/accounts/", json=account).status_code == 200
        token = httpx.post(f"{rig}/accounts/auth/local", json=account).json()["payload"]["token"]
        h = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        stream = httpx.post(f"{rig}/streams/", headers=h, json={}).json()["payload"]
        destination = {"service": "YouTube", "streamKey": "yt-key"}
        assert httpx.post(f"{rig}/streams/{stream['id']}/destination", headers=h, json=destination).status_code == 200

        def detail() -> dict[str, Any]:
            return httpx.get(f"{rig}/streams/{stream['id']}", headers=h).json()["payload"]  # type: ignore[no-any-return]

        with publishing(f"rtmp://127.0.0.1:{rtmp_port}/rig/{stream['streamKey']}") as publisher:
            _wait_until(
                lambda: detail()["isStreaming"] and detail()["destinations"][0]["status"] == "live",
                "the API process to see the stream live through the ingest process",
            )
            assert detail()["provisionStatus"]
            _wait_until(lambda: any(f.stat().st_size for f in receiver.recorded.glob("*.flv")), "the receiver")

            # The preview: asked for on the API process, written by the ingest, read through the storage.
            page = detail()["previewUrl"]
            assert page.startswith(api)

            def playlist() -> str | None:
                r = httpx.get(f"{page}/index.m3u8")
                return r.text if r.status_code == 200 and "seg-" in r.text else None

            _wait_until(playlist, "the preview to reach the API process", timeout=60)
            text = playlist()
            assert text is not None and stream["streamKey"] not in text
            segment = next(line for line in text.splitlines() if line.startswith("seg-"))
            got = httpx.get(f"{page}/{segment}")
            assert got.status_code == 200 and len(got.content) > 1000

            # A new key on the API process ends the session on the ingest process.
            assert httpx.post(f"{rig}/streams/{stream['id']}/changeKey", headers=h, json={}).status_code == 200
            _wait_until(lambda: publisher.poll() is not None, "the ingest to drop the publisher")
            _wait_until(lambda: not detail()["isStreaming"], "the stream to be offline")
    finally:
        procs.stop()
        receiver.kill()
