"""An encore instance on the real app with real worker threads, a file server for inputs and a callback receiver."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from mediaplane.config import Settings
from mediaplane.core.catalog import Registry
from mediaplane.core.runtime import Runtime
from mediaplane.kit.clock import Clock
from mediaplane.services.encore import spec as encore_spec
from tests.conftest import make_settings
from tests.fixtures.factories import Factory
from tests.fixtures.media import make_test_video
from tests.fixtures.required import require_or_skip
from tests.fixtures.servers import serve_in_thread

TERMINAL = ("SUCCESSFUL", "FAILED", "CANCELLED")
REDIS_URL = "redis://127.0.0.1:6379/12"
FAST_PROFILES = {
    "profiles.yml": "fast: fast.yml\nslow: slow.yml\nmedium: medium.yml\nbroken: broken.yml\n",
    # One small rendition with its audio, a separate audio file and thumbnails: quick on two cores.
    "fast.yml": """
name: fast
description: quick test ladder
encodes:
  - type: X264Encode
    suffix: _x264_400
    height: 120
    params: {b:v: 400k, preset: ultrafast, r: 25, pix_fmt: yuv420p, force_key_frames: "expr:gte(t,n_forced*1)"}
    audioEncode: {type: AudioEncode, bitrate: 64k}
  - type: X264Encode
    suffix: _x264_200
    height: 72
    params: {b:v: 200k, preset: ultrafast, r: 25, pix_fmt: yuv420p, force_key_frames: "expr:gte(t,n_forced*1)"}
    audioEncode: {type: AudioEncode, bitrate: 64k}
  - type: AudioEncode
    bitrate: 64k
    suffix: _STEREO
  - type: ThumbnailEncode
    thumbnailHeight: 90
""",
    # Slow on purpose (two passes of a big frame): long enough to cancel or kill mid-way.
    "slow.yml": """
name: slow
encodes:
  - type: X264Encode
    suffix: _slow
    height: 1080
    twoPass: true
    params: {b:v: 3000k, preset: slower}
""",
    # Some seconds of work on the 20 s clip: time to kill a worker in the middle, short enough to finish after.
    "medium.yml": """
name: medium
encodes:
  - type: X264Encode
    suffix: _x264_720
    height: 720
    params: {b:v: 1500k, preset: veryfast}
    audioEncode: {type: AudioEncode, bitrate: 64k}
""",
    "broken.yml": """
name: broken
encodes:
  - type: X264Encode
    suffix: _bad
    params: {profile:v: nonsense-profile}
""",
}


@pytest.fixture
def clock() -> Clock:
    return Clock()  # deferred and retried jobs wait for real time


@pytest.fixture
def registry() -> Registry:
    return Registry([encore_spec])


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Embedded (SQLite, SqliteHuey) or scale-out (PostgreSQL + Redis dispatch and events)."""
    if not database_url.startswith("postgresql"):
        return make_settings(tmp_path / "data", database_url)
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except redis.RedisError as exc:
        require_or_skip("Redis at 127.0.0.1:6379", exc)
    return make_settings(tmp_path / "data", database_url, redis_url=REDIS_URL)


@dataclass
class Encore:
    """One encore instance of tenant `acme`, reached through the platform like any client does."""

    client: httpx.AsyncClient
    runtime: Runtime
    sat: str
    name: str
    instance: dict[str, Any]

    @property
    def base(self) -> str:
        return f"/encore/acme-{self.name}"

    @property
    def headers(self) -> dict[str, str]:
        return {"x-jwt": f"Bearer {self.sat}"}

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return await self.client.request(method, f"{self.base}{path}", headers=headers, **kwargs)

    async def enqueue(self, body: dict[str, Any]) -> dict[str, Any]:
        r = await self.request("POST", "/encoreJobs", json=body)
        assert r.status_code == 201, r.text
        data: dict[str, Any] = r.json()
        return data

    async def job(self, job_id: str) -> dict[str, Any]:
        r = await self.request("GET", f"/encoreJobs/{job_id}")
        assert r.status_code == 200, r.text
        data: dict[str, Any] = r.json()
        return data

    async def wait(self, job_id: str, statuses: tuple[str, ...] = TERMINAL, within: float = 120) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            job = await self.job(job_id)
            if job["status"] in statuses:
                return job
            if time.monotonic() > deadline:
                raise AssertionError(f"job {job_id} still {job['status']} ({job.get('progress')} %)")
            await asyncio.sleep(0.1)


async def make_encore(factory: Factory, client: httpx.AsyncClient, runtime: Runtime, **options: Any) -> Encore:
    tenant = await factory.create_tenant("acme")
    sat = await factory.sat(tenant.pat, "encore")
    name = options.pop("name", "test")
    instance = await factory.create_instance(sat, "encore", name, **options)
    return Encore(client, runtime, sat, name, instance)


@pytest.fixture
async def encore(factory: Factory, client: httpx.AsyncClient, runtime: Runtime) -> AsyncIterator[Encore]:
    runtime.jobs.start_workers(2)
    yield await make_encore(factory, client, runtime)


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("media")
    make_test_video(folder / "clip.mp4", seconds=3, size="320x240")
    make_test_video(folder / "silent.mp4", seconds=2, size="320x240", audio=False)
    make_test_video(folder / "long.mp4", seconds=20, size="320x240")
    for name, text in FAST_PROFILES.items():
        (folder / name).write_text(text)
    (folder / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    return folder


@dataclass
class Received:
    bodies: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    fail_first: int = 0


@pytest.fixture(scope="session")
def received() -> Received:
    return Received()


@pytest.fixture(scope="session")
def media_server(media_dir: Path, received: Received) -> Iterator[str]:
    """Serves the test media (with Range) and receives callbacks at /callback (the first `fail_first` get 500)."""

    async def callback(request: Request) -> Response:
        if received.fail_first > 0:
            received.fail_first -= 1
            return PlainTextResponse("not now", status_code=500)
        received.bodies.append(await request.json())
        received.headers.append(dict(request.headers))
        return JSONResponse({"ok": True})

    async def health(request: Request) -> Response:
        return PlainTextResponse("ok")

    app = Starlette(
        routes=[
            Route("/health", health),
            Route("/callback", callback, methods=["POST"]),
            Mount("/media", StaticFiles(directory=media_dir)),
        ]
    )
    with serve_in_thread(app) as url:
        yield url
