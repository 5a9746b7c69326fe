"""Every POST needs the page's token and a same-origin Origin (or Referer); the sign-in form too."""

from __future__ import annotations

from mediaplane.core.runtime import Runtime
from mediaplane.core.token.service import token_service
from tests.console.conftest import ORIGIN, PASSWORD, Console
from tests.fixtures.factories import TenantHandle

FOREIGN = "https://evil.example"


async def pat_names(runtime: Runtime, tenant: str = "acme") -> list[str]:
    async with runtime.db.session() as session:
        return [p.name for p in await token_service.list_pats(session, tenant)]


class TestSignedInForms:
    async def test_a_missing_or_wrong_token_is_refused(self, console: Console, runtime: Runtime) -> None:
        await console.signed_in()
        client = console.client
        missing = await client.post("/console/tokens", data={"name": "x"}, headers={"origin": ORIGIN})
        wrong = await client.post("/console/tokens", data={"name": "x", "csrf_token": "0" * 64})
        other_kind = await client.post("/console/tokens", files={"csrf_token": ("t.txt", b"x")}, data={"name": "x"})
        for r in (missing, wrong, other_kind):
            assert r.status_code == 403 and "security token" in r.text
        assert await pat_names(runtime) == ["default"]
        assert (await console.post("/console/tokens", {"name": "fine"})).status_code == 200
        assert await pat_names(runtime) == ["default", "fine"]

    async def test_another_origin_is_refused_even_with_the_token(self, console: Console, runtime: Runtime) -> None:
        await console.signed_in()
        token = await console.csrf()
        body = {"csrf_token": token, "name": "x"}
        for headers in ({"origin": FOREIGN}, {"origin": "null"}, {"referer": f"{FOREIGN}/console/tokens"}):
            r = await console.client.post("/console/tokens", data=body, headers=headers)
            assert r.status_code == 403 and "another site" in r.text, headers
        assert await pat_names(runtime) == ["default"]
        same = await console.client.post("/console/tokens", data=body, headers={"referer": f"{ORIGIN}/console/tokens"})
        assert same.status_code == 200

    async def test_the_header_form_of_the_token(self, console: Console) -> None:
        await console.signed_in()
        token = await console.csrf()
        r = await console.client.post("/console/tokens", data={"name": "js"}, headers={"x-csrf-token": token})
        assert r.status_code == 200
        r = await console.client.post("/console/tokens", data={"name": "js"}, headers={"x-csrf-token": "nope"})
        assert r.status_code == 403

    async def test_each_session_has_its_own_token(self, console: Console, acme: TenantHandle) -> None:
        await console.signed_in()
        first = await console.csrf()
        await console.post("/console/sign-out", token=first)
        await console.signed_in()
        second = await console.csrf()
        assert first != second
        assert (await console.post("/console/tokens", {"name": "x"}, token=first)).status_code == 403

    async def test_sign_out_needs_the_token(self, console: Console) -> None:
        await console.signed_in()
        r = await console.client.post("/console/sign-out", headers={"origin": ORIGIN})
        assert r.status_code == 403
        assert (await console.client.get("/console/")).status_code == 200  # still signed in


class TestSignInForm:
    async def test_it_needs_its_cookie_token_and_origin(self, console: Console) -> None:
        token = await console.sign_in_form()
        data = {"csrf_token": token, "tenant": "acme", "username": "admin", "password": PASSWORD}
        assert (await console.client.post("/console/sign-in", data={**data, "csrf_token": "x"})).status_code == 403
        foreign = await console.client.post("/console/sign-in", data=data, headers={"origin": FOREIGN})
        assert foreign.status_code == 403
        nonce = console.client.cookies.get("mediaplane_console_signin", path="/console")
        console.client.cookies.clear()
        assert (await console.client.post("/console/sign-in", data=data)).status_code == 403  # no cookie
        forged = await console.client.post(
            "/console/sign-in", data=data, headers={"cookie": f"mediaplane_console_signin={(nonce or '')[::-1]}"}
        )
        assert forged.status_code == 403
        assert console.session_cookie is None
        assert (await console.sign_in()).status_code == 303
