"""Property-based run over the platform's OpenAPI document: whatever is sent, never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from mediaplane.app import create_app
from mediaplane.core.catalog import Registry
from tests.conftest import make_settings
from tests.fixtures.databases import SqliteTemplate
from tests.fixtures.factories import admin_pat
from tests.fixtures.servers import serve_in_thread
from tests.fixtures.services import notes_spec


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, sqlite_template: SqliteTemplate) -> Iterator[dict[str, str]]:
    directory: Path = tmp_path_factory.mktemp("fuzz")
    registry = Registry([notes_spec()])
    settings = make_settings(directory / "data", sqlite_template.fresh(directory))
    pat = admin_pat(settings, registry)
    with serve_in_thread(create_app(settings, registry=registry, run_workers=False)) as base:
        sat = httpx.post(f"{base}/servicetoken", headers={"x-pat-jwt": f"Bearer {pat}"}, json={"serviceId": "notes"})
        yield {"base": base, "pat": pat, "sat": sat.json()["token"]}


def test_no_server_errors(live: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_url(f"{live['base']}/openapi.json")
    # Half the calls carry valid tokens so the fuzzing reaches past authentication.
    tokens = {"x-pat-jwt": f"Bearer {live['pat']}", "x-jwt": f"Bearer {live['sat']}"}
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            for headers in (None, tokens):
                response = case.call(headers=headers)
                if response.status_code >= 500:
                    failures.append(
                        f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:200]}"
                    )

        check()
    assert operations >= 15
    assert failures == []
