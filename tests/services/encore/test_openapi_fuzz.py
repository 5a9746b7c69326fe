"""Property-based run over an encore instance's own OpenAPI document: whatever is sent, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from mediaplane.app import create_app
from mediaplane.core.catalog import Registry
from mediaplane.services.encore import spec as encore_spec
from tests.conftest import make_settings
from tests.fixtures.databases import SqliteTemplate
from tests.fixtures.factories import admin_pat
from tests.fixtures.servers import serve_in_thread


@pytest.fixture(scope="module")
def instance(tmp_path_factory: pytest.TempPathFactory, sqlite_template: SqliteTemplate) -> Iterator[dict[str, str]]:
    directory: Path = tmp_path_factory.mktemp("encore-fuzz")
    registry = Registry([encore_spec])
    settings = make_settings(directory / "data", sqlite_template.fresh(directory))
    pat = admin_pat(settings, registry)
    # No workers: the fuzzing enqueues many jobs and only the API is under test.
    with serve_in_thread(create_app(settings, registry=registry, run_workers=False)) as base:
        r = httpx.post(f"{base}/servicetoken", headers={"x-pat-jwt": f"Bearer {pat}"}, json={"serviceId": "encore"})
        sat = r.json()["token"]
        created = httpx.post(f"{base}/encoreinstance", headers={"x-jwt": f"Bearer {sat}"}, json={"name": "fuzz"})
        assert created.status_code == 200, created.text
        yield {"url": created.json()["url"], "sat": sat}


def test_no_server_errors(instance: dict[str, str]) -> None:
    headers = {"x-jwt": f"Bearer {instance['sat']}"}
    document = httpx.get(f"{instance['url']}v3/api-docs", headers=headers).json()
    schema = schemathesis.openapi.from_dict(document)
    schema.config.update(base_url=instance["url"].rstrip("/"))
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}")

        check()
    assert operations >= 15
    assert failures == []
