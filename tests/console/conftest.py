"""The console through the app (httpx, ASGI): tenants with passwords, a signed-in client, and test services, one
of them with a tiny dashboard plug-in."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import APIRouter
from starlette.responses import HTMLResponse

from mediaplane.console import ConsolePlugin, CurrentConsole
from mediaplane.core.catalog import InstanceOption, Registry, ServiceSpec
from tests.fixtures.factories import Factory, TenantHandle
from tests.fixtures.services import notes_spec

PASSWORD = "correct horse battery"
ORIGIN = "http://testserver"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)">')
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def board_plugin() -> ConsolePlugin:
    """What a service's dashboard looks like to the console: a router, its templates, a label."""
    router = APIRouter()

    @router.get("/")
    async def board(ctx: CurrentConsole) -> HTMLResponse:
        who = f"{ctx.user.username}@{ctx.tenant.id} on {ctx.spec.id}/{ctx.instance.name}"
        return ctx.render("notes/board.html", who=who)

    @router.post("/ping")
    async def ping(ctx: CurrentConsole) -> HTMLResponse:
        return HTMLResponse(f"pong from {ctx.instance.name}")

    return ConsolePlugin(label="Notes board", router=router, templates=Path(__file__).parent / "dashboard")


def vault_spec() -> ServiceSpec:
    """A service with every kind of option: a mandatory enum, a list, a generated secret."""
    return replace(
        notes_spec("vaults"),
        title="Vaults (test)",
        options=[
            InstanceOption(name="tier", label="Tier", type="enum", enums=("small", "large"), mandatory=True),
            InstanceOption(name="tags", label="Tags", type="list"),
            InstanceOption(name="motto", label="Motto", regex_validator=r"[a-z ]*", description="Lowercase words."),
            InstanceOption(name="key", label="Key", secret=True, generate=lambda: "generated-key-0123456789"),
            InstanceOption(name="audit", label="Audit", type="boolean", default=True),
        ],
    )


@pytest.fixture
def registry() -> Registry:
    return Registry([replace(notes_spec("notes"), console=board_plugin), vault_spec()])


class Console:
    """A browser's view of the console: cookies kept by the client, forms posted with their CSRF token."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def sign_in_form(self) -> str:
        page = await self.client.get("/console/sign-in")
        assert page.status_code == 200, page.text
        return field_token(page.text)

    async def sign_in(
        self, tenant: str = "acme", username: str = "admin", password: str = PASSWORD, next_: str = ""
    ) -> httpx.Response:
        token = await self.sign_in_form()
        data = {"csrf_token": token, "tenant": tenant, "username": username, "password": password, "next": next_}
        return await self.client.post("/console/sign-in", data=data, headers={"origin": ORIGIN})

    async def signed_in(self, tenant: str = "acme", password: str = PASSWORD) -> None:
        r = await self.sign_in(tenant, password=password)
        assert r.status_code == 303, r.text

    async def csrf(self, path: str = "/console/") -> str:
        page = await self.client.get(path)
        assert page.status_code == 200, page.text
        found = CSRF_META.search(page.text)
        assert found, page.text
        return found.group(1)

    async def post(self, path: str, data: dict[str, str] | None = None, *, token: str | None = None) -> httpx.Response:
        body = {"csrf_token": token if token is not None else await self.csrf(), **(data or {})}
        return await self.client.post(path, data=body, headers={"origin": ORIGIN})

    @property
    def session_cookie(self) -> str | None:
        return self.client.cookies.get("mediaplane_console", path="/console")


def field_token(html: str) -> str:
    found = CSRF_FIELD.search(html)
    assert found, html
    return found.group(1)


@pytest.fixture
async def acme(factory: Factory) -> TenantHandle:
    return await factory.create_tenant("acme", password=PASSWORD)


@pytest.fixture
def console(client: httpx.AsyncClient, acme: TenantHandle) -> Console:
    return Console(client)
