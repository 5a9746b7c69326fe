"""The plug-in point: a service's dashboard router under /console/<serviceId>/<instance>/, with the context."""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI

from mediaplane.console.plugin import install_plugins
from mediaplane.console.render import Templates
from mediaplane.core.catalog import Registry
from tests.console.conftest import Console, board_plugin
from tests.fixtures.services import notes_spec


class TestDashboard:
    async def test_it_renders_in_the_console_layout_with_its_context(self, console: Console) -> None:
        await console.signed_in()
        assert (await console.post("/console/catalog/notes", {"name": "demo"})).status_code == 200
        page = await console.client.get("/console/notes/demo/")
        assert page.status_code == 200
        assert '<p id="who">admin@acme on notes/demo</p>' in page.text
        assert "<h1>Board of demo</h1>" in page.text
        assert 'aria-label="Main"' in page.text and 'aria-current="page">Instances<' in page.text  # base.html
        assert "Content-Security-Policy" in page.headers
        token = await console.csrf("/console/notes/demo/")
        assert 'action="/console/notes/demo/ping"' in page.text
        r = await console.post("/console/notes/demo/ping", token=token)
        assert (r.status_code, r.text) == (200, "pong from demo")
        assert (await console.post("/console/notes/demo/ping", token="forged")).status_code == 403

    async def test_strangers_and_missing_instances(self, console: Console) -> None:
        r = await console.client.get("/console/notes/demo/")
        assert (r.status_code, r.headers["location"]) == (303, "/console/sign-in?next=/console/notes/demo/")
        await console.signed_in()
        assert (await console.client.get("/console/notes/nosuch/")).status_code == 404
        assert (await console.client.get("/console/vaults/nosuch/")).status_code == 404  # no dashboard there


def test_a_service_named_like_a_console_page_gets_no_dashboard() -> None:
    app = FastAPI()
    registry = Registry(
        [replace(notes_spec("tokens"), console=board_plugin), replace(notes_spec("notes"), console=board_plugin)]
    )
    mounted = install_plugins(app, Templates(), registry)
    assert list(mounted) == ["notes"]
    assert set(app.openapi()["paths"]) == {"/notes/{instance_name}/", "/notes/{instance_name}/ping"}
