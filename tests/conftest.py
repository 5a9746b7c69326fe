from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mediaplane.app import create_app
from mediaplane.config import Settings
from mediaplane.core.catalog import Registry
from mediaplane.core.runtime import Runtime, open_runtime
from mediaplane.kit.clock import FrozenClock
from tests.fixtures.factories import Factory
from tests.fixtures.services import notes_spec

pytest_plugins = ["tests.fixtures.browser", "tests.fixtures.databases", "tests.fixtures.s3", "tests.fixtures.webrtc"]

TEST_SECRET = "test-secret-0123456789-abcdefghijklmnopqrstuvwxyz"


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "env": "dev",
        "data_dir": data_dir,
        "database_url": database_url,
        "secret_key": TEST_SECRET,
        "run_workers": False,
        "rtmp_enabled": False,  # tests that publish turn the ingest on, on a free port
        "mqtt_enabled": False,  # tests of device nodes turn the broker on, on a free port
        "password_hash": "argon2id-fast",  # many users are made; tests/core/test_security.py checks the default
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock()


@pytest.fixture
def registry() -> Registry:
    return Registry([notes_spec("notes"), notes_spec("clips")])


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(tmp_path / "data", database_url)


@pytest.fixture
async def runtime(settings: Settings, registry: Registry, clock: FrozenClock) -> AsyncIterator[Runtime]:
    rt = await open_runtime(settings, registry=registry, clock=clock)
    try:
        yield rt
    finally:
        await rt.close()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime=runtime)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def factory(runtime: Runtime, client: httpx.AsyncClient) -> Factory:
    return Factory(runtime, client)
