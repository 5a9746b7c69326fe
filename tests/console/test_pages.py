"""The pages: root redirect, tokens, catalog forms with inline validation, instances, and tenant isolation."""

from __future__ import annotations

import re

import httpx
import pytest
from sqlalchemy import func, select

from mediaplane import __version__
from mediaplane.core.catalog import Registry, discover_services
from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.core.tenant.service import tenant_service
from mediaplane.core.token.service import token_service
from tests.conftest import TEST_SECRET
from tests.console.conftest import ORIGIN, PASSWORD, Console
from tests.console.test_sessions import second_client
from tests.fixtures.factories import Factory, TenantHandle
from tests.fixtures.services import NoteHooks

TOKEN = re.compile(r'<code id="new-token">([^<]+)</code>')


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


class TestRoot:
    async def test_browsers_go_to_the_console_and_api_clients_get_json(self, client: httpx.AsyncClient) -> None:
        r = await client.get("/", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert (r.status_code, r.headers["location"]) == (303, "/console/")
        assert (await client.get("/")).json()["name"] == "mediaplane"
        assert (await client.get("/console")).headers["location"].endswith("/console/")
        page = await client.get("/console/sign-in")
        assert page.status_code == 200 and "Content-Security-Policy" in page.headers
        assert page.headers["cache-control"] == "no-store" and page.headers["x-frame-options"] == "DENY"
        assert (await client.get("/console/static/console.js")).status_code == 200

    async def test_an_unknown_page_is_a_404_page(self, console: Console) -> None:
        await console.signed_in()
        for path in (
            "/console/nothing",
            "/console/catalog/nosuch",
            "/console/instances/nosuch/x",
            "/console/instances/notes/a%00b",
            "/console/tokens/%00/revoke",
        ):
            r = await console.client.get(path)
            assert r.status_code == 404 and r.headers["content-type"].startswith("text/html"), path


class TestTokens:
    async def test_create_one_and_read_it_once(self, console: Console, client: httpx.AsyncClient) -> None:
        await console.signed_in()
        r = await console.post("/console/tokens", {"name": "laptop"})
        assert r.status_code == 200 and "only time the token is shown" in r.text
        token = TOKEN.search(r.text).group(1)  # type: ignore[union-attr]
        me = await client.get("/me", headers={"x-pat-jwt": f"Bearer {token}"})
        assert me.json()["tenantId"] == "acme"
        listing = await console.client.get("/console/tokens")
        assert "laptop" in listing.text and token not in listing.text
        row = re.search(r"<tr>\s*<td data-label=\"Name\">laptop</td>(.*?)</tr>", listing.text, re.S)
        assert row and "Last used" in row.group(1) and "never" not in row.group(1)  # /me used it just now

    async def test_a_bad_name_is_told_next_to_the_field(self, console: Console) -> None:
        await console.signed_in()
        r = await console.post("/console/tokens", {"name": "   "})
        assert r.status_code == 400 and 'id="token-name-error"' in r.text
        long = "n" * 150
        r = await console.post("/console/tokens", {"name": long})
        assert r.status_code == 400 and f'value="{"n" * 100}"' in r.text

    async def test_revoke_after_a_confirmation(
        self, console: Console, client: httpx.AsyncClient, acme: TenantHandle
    ) -> None:
        await console.signed_in()
        listing = await console.client.get("/console/tokens")
        revoke = re.search(r'href="(/console/tokens/[^"]+/revoke)"', listing.text).group(1)  # type: ignore[union-attr]
        confirm = await console.client.get(revoke)
        assert confirm.status_code == 200 and "Revoke the token “default”?" in confirm.text
        assert (await client.get("/me", headers={"x-pat-jwt": f"Bearer {acme.pat}"})).status_code == 200
        r = await console.post(revoke, token=await console.csrf("/console/tokens"))
        assert (r.status_code, r.headers["location"]) == (303, "/console/tokens?done=revoked")
        assert "revoked" in (await console.client.get(r.headers["location"])).text
        assert (await client.get("/me", headers={"x-pat-jwt": f"Bearer {acme.pat}"})).status_code == 401

    async def test_a_service_access_token_is_shown_once_and_works(
        self, console: Console, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        await console.signed_in()
        page = await console.client.get("/console/tokens")
        pat_id = re.search(r'<option value="([^"]+)">default</option>', page.text).group(1)  # type: ignore[union-attr]
        forged = await console.client.post("/console/tokens/service", data={"service": "notes", "pat": pat_id})
        assert forged.status_code == 403
        refused = await console.post("/console/tokens/service", {"service": "nosuch", "pat": "x"})
        assert refused.status_code == 400
        assert 'id="sat-service-error">Choose one of the services.' in refused.text
        assert 'id="sat-pat-error">Choose one of your tenant' in refused.text
        r = await console.post("/console/tokens/service", {"service": "notes", "pat": pat_id})
        assert r.status_code == 200 and "only time the token is shown" in r.text
        sat = re.search(r'<code id="sat-token">([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
        expiry = runtime.clock.now() + runtime.settings.sat_lifetime
        assert f'<time datetime="{expiry.replace(microsecond=0).isoformat()}' in r.text.replace(".000000", "")
        listed = await client.get("/notesinstance", headers={"x-jwt": f"Bearer {sat}"})
        assert listed.status_code == 200 and listed.json() == []
        assert (await client.get("/vaultsinstance", headers={"x-jwt": f"Bearer {sat}"})).status_code == 401
        assert sat not in (await console.client.get("/console/tokens")).text


class TestCatalog:
    async def test_lists_the_services_with_their_forms(self, console: Console, registry: Registry) -> None:
        await console.signed_in()
        page = await console.client.get("/console/catalog")
        for spec in registry:
            assert spec.title in page.text and spec.description in page.text
            assert f'href="/console/catalog/{spec.id}"' in page.text
        form = (await console.client.get("/console/catalog/vaults")).text
        assert '<select id="field-tier" name="tier"' in form and "(required)" in form
        assert '<input type="password" id="field-key" name="key"' in form and "generated" in form
        assert '<input type="checkbox" id="field-audit" name="audit" value="true" checked' in form
        assert "Separate values with commas" in form and "Lowercase words." in form

    async def test_bad_values_are_told_inline_and_kept(self, console: Console, runtime: Runtime) -> None:
        await console.signed_in()
        data = {"name": "Bad Name", "tier": "huge", "motto": "NOT LOWER", "tags": "a, b", "key": "s3cret-value"}
        r = await console.post("/console/catalog/vaults", data)
        assert r.status_code == 400
        assert re.search(r'id="field-name-error">Use lowercase letters and digits', r.text)
        assert 'id="field-tier-error">Choose one of: small, large.' in r.text
        assert 'id="field-motto-error">Does not match [a-z ]*.' in r.text
        assert 'aria-describedby="field-motto-desc field-motto-hint field-motto-error" aria-invalid="true"' in r.text
        assert 'value="Bad Name"' in r.text and 'value="NOT LOWER"' in r.text and 'value="a, b"' in r.text
        assert "s3cret-value" not in r.text  # a secret is not sent back
        assert 'name="audit" value="true">' in r.text  # unchecked stays unchecked
        missing = await console.post("/console/catalog/vaults", {"name": "ok"})
        assert missing.status_code == 400 and 'id="field-tier-error">Required.' in missing.text
        async with runtime.db.session() as session:
            assert (await session.execute(select(func.count()).select_from(Instance))).scalar() == 0

    async def test_create_shows_generated_secrets_once(self, console: Console, client: httpx.AsyncClient) -> None:
        await console.signed_in()
        data = {"name": "safe", "tier": "small", "tags": "red, blue", "motto": "all good"}
        r = await console.post("/console/catalog/vaults", data)
        assert r.status_code == 200 and "shown only this once" in r.text
        assert '<code id="once-key">generated-key-0123456789</code>' in r.text
        assert 'href="/console/instances/vaults/safe"' in r.text
        page = await console.client.get("/console/instances/vaults/safe")
        assert "generated-key-0123456789" not in page.text and "hidden" in page.text
        facts = text_of(page.text)
        assert "Tags red, blue" in facts and "Audit no" in facts and "Tier small" in facts
        again = await console.post("/console/catalog/vaults", data)
        assert (
            again.status_code == 409
            and 'id="field-name-error">You already have an instance of this name.' in again.text
        )


class TestShippedServices:
    @pytest.fixture
    def registry(self) -> Registry:
        return discover_services()

    async def test_every_service_has_a_working_form(self, console: Console, registry: Registry) -> None:
        await console.signed_in()
        catalog = await console.client.get("/console/catalog")
        assert {"encore", "eyeson", "gosd", "rig"} <= {spec.id for spec in registry}
        for spec in registry:
            assert f'href="/console/catalog/{spec.id}"' in catalog.text
            form = await console.client.get(f"/console/catalog/{spec.id}")
            assert form.status_code == 200, form.text
            for option in spec.options:
                assert f'id="field-{option.name}"' in form.text
            refused = await console.post(f"/console/catalog/{spec.id}", {"name": "-"})
            assert refused.status_code == 400 and 'id="field-name-error"' in refused.text


class TestInstances:
    async def test_empty_list_tells_what_to_do(self, console: Console) -> None:
        await console.signed_in()
        page = await console.client.get("/console/instances")
        assert "You have no instances yet" in page.text and 'href="/console/catalog"' in page.text
        home = await console.client.get("/console/")
        assert "Get started" in home.text

    async def test_list_describe_and_remove(self, console: Console, registry: Registry) -> None:
        await console.signed_in()
        assert (await console.post("/console/catalog/notes", {"name": "demo", "color": "red"})).status_code == 200
        listing = text_of((await console.client.get("/console/instances")).text)
        assert "demo Notes (test) running" in listing
        page = await console.client.get("/console/instances/notes/demo")
        assert 'id="instance-url">http://testserver/notes/acme-demo/<' in page.text
        assert 'id="api-docs"' in page.text and "http://testserver/notes/acme-demo/docs" in page.text
        assert "https://example.invalid/notes" in page.text  # the service's own documentation
        assert 'id="health">running<' in page.text and "instance demo created" in page.text
        assert 'href="/console/notes/demo/">Notes board<' in page.text  # the dashboard plug-in
        r = await console.post("/console/instances/notes/demo/restart", token=await console.csrf())
        assert (r.status_code, r.headers["location"]) == (303, "/console/instances/notes/demo?done=restarted")
        restarted = await console.client.get(r.headers["location"])
        assert "The instance is restarted." in restarted.text and "instance restarted" in restarted.text
        hooks = registry.get("notes").hooks  # type: ignore[union-attr]
        assert isinstance(hooks, NoteHooks) and hooks.restarted == ["demo"]
        confirm = await console.client.get("/console/instances/notes/demo/remove")
        assert "cannot be undone" in confirm.text
        r = await console.post("/console/instances/notes/demo/remove", token=await console.csrf())
        assert (r.status_code, r.headers["location"]) == (303, "/console/instances?done=removed")
        assert hooks.deleted == ["demo"]
        assert (await console.client.get("/console/instances/notes/demo")).status_code == 404

    async def test_edit_options_keeps_or_renews_a_secret(self, console: Console, runtime: Runtime) -> None:
        await console.signed_in()
        data = {"name": "safe", "tier": "small", "tags": "red, blue", "motto": "all good", "audit": "true"}
        assert (await console.post("/console/catalog/vaults", data)).status_code == 200
        page = await console.client.get("/console/instances/vaults/safe")
        assert 'href="/console/instances/vaults/safe/options"' in page.text
        form = await console.client.get("/console/instances/vaults/safe/options")
        assert 'name="motto" value="all good"' in form.text and 'name="tags" value="red, blue"' in form.text
        assert '<option value="small" selected>' in form.text and 'name="audit" value="true" checked' in form.text
        assert "generated-key" not in form.text and "Leave empty to keep the current value" in form.text

        async def stored() -> dict[str, object]:
            async with runtime.db.session() as session:
                row = (await session.execute(select(Instance).where(Instance.name == "safe"))).scalar_one()
                return dict(row.options)

        before = await stored()
        forged = await console.client.post(
            "/console/instances/vaults/safe/options", data={"tier": "large"}, headers={"origin": ORIGIN}
        )
        assert forged.status_code == 403 and await stored() == before
        bad = await console.post("/console/instances/vaults/safe/options", {"tier": "small", "motto": "LOUD"})
        assert bad.status_code == 400 and 'id="field-motto-error">Does not match [a-z ]*.' in bad.text
        assert 'value="LOUD"' in bad.text and await stored() == before
        missing = await console.post("/console/instances/vaults/safe/options", {"tier": "", "motto": "x"})
        assert missing.status_code == 400 and 'id="field-tier-error">Required.' in missing.text
        changed = {"tier": "large", "tags": "", "motto": "quiet now", "key": ""}
        r = await console.post("/console/instances/vaults/safe/options", changed)
        assert (r.status_code, r.headers["location"]) == (303, "/console/instances/vaults/safe?done=updated")
        assert "The options are saved." in (await console.client.get(r.headers["location"])).text
        after = await stored()
        assert after["key"] == "generated-key-0123456789"  # left empty: kept
        assert (after["tier"], after["motto"], after["audit"]) == ("large", "quiet now", False)
        assert "tags" not in after  # emptied: cleared, as PATCH with null does
        r = await console.post("/console/instances/vaults/safe/options", {**changed, "key": "a new key value"})
        assert r.status_code == 303 and (await stored())["key"] == "a new key value"
        # A new one generated: shown on the answer page, once.
        both = await console.post("/console/instances/vaults/safe/options", {**changed, "key": "x", "key.reset": "on"})
        assert both.status_code == 400 and "not both" in both.text and (await stored())["key"] == "a new key value"
        r = await console.post("/console/instances/vaults/safe/options", {**changed, "key.reset": "on"})
        assert r.status_code == 200 and '<code id="once-key">generated-key-0123456789</code>' in r.text
        assert (await stored())["key"] == "generated-key-0123456789"


class TestIsolation:
    async def test_another_tenants_things_are_not_found(
        self, console: Console, factory: Factory, runtime: Runtime, client: httpx.AsyncClient
    ) -> None:
        await console.signed_in()
        assert (await console.post("/console/catalog/notes", {"name": "mine"})).status_code == 200
        async with runtime.db.session() as session:
            acme_pat = (await token_service.list_pats(session, "acme"))[0]
        await factory.create_tenant("beta", password=PASSWORD)
        await console.post("/console/sign-out")
        await console.signed_in("beta")
        csrf = await console.csrf()
        for path in (
            "/console/instances/notes/mine",
            "/console/instances/notes/mine/remove",
            f"/console/tokens/{acme_pat.id}/revoke",
            "/console/notes/mine/",
        ):
            assert (await console.client.get(path)).status_code == 404, path
        for path in (
            "/console/instances/notes/mine/remove",
            "/console/instances/notes/mine/restart",
            f"/console/tokens/{acme_pat.id}/revoke",
            "/console/notes/mine/ping",
        ):
            assert (await console.post(path, token=csrf)).status_code == 404, path
        assert "mine" not in (await console.client.get("/console/instances")).text
        assert "default" in (await console.client.get("/console/tokens")).text  # beta's own
        async with runtime.db.session() as session:
            assert (await token_service.list_pats(session, "acme"))[0].revoked_at is None
            assert await tenant_service.exists(session, "acme")
        # acme's instance still answers its owner.
        await console.post("/console/sign-out")
        await console.signed_in()
        assert (await console.client.get("/console/instances/notes/mine")).status_code == 200


class TestAdmin:
    async def test_other_tenants_find_no_admin_pages(self, console: Console) -> None:
        await console.signed_in()
        page = await console.client.get("/console/")
        assert "/console/admin/" not in page.text
        for path in ("/console/admin/tenants", "/console/admin/system"):
            r = await console.client.get(path)
            assert r.status_code == 404 and "There is no such page." in r.text, path
        r = await console.post("/console/admin/tenants", {"tenant": "sneaky", "username": "admin"})
        assert r.status_code == 404

    async def test_create_a_tenant_shown_once(
        self, console: Console, factory: Factory, client: httpx.AsyncClient, runtime: Runtime
    ) -> None:
        await factory.create_tenant("admin", password=PASSWORD)
        await console.signed_in("admin")
        page = await console.client.get("/console/admin/tenants")
        assert page.status_code == 200 and 'href="/console/admin/system"' in page.text
        assert "admin (yours)" in text_of(page.text) and "acme" in page.text
        bad = await console.post("/console/admin/tenants", {"tenant": "Big Co", "username": " "})
        assert bad.status_code == 400 and 'id="new-tenant-error">Use lowercase letters and digits' in bad.text
        assert 'value="Big Co"' in bad.text and 'id="new-tenant-user-error">Enter a username.' in bad.text
        taken = await console.post("/console/admin/tenants", {"tenant": "acme", "username": "boss"})
        assert taken.status_code == 400 and "There is already a tenant acme." in taken.text
        assert 'value="boss"' in taken.text
        data = {"tenant": "globex", "username": "hank"}
        forged = await console.client.post("/console/admin/tenants", data=data, headers={"origin": ORIGIN})
        assert forged.status_code == 403  # no CSRF token
        r = await console.post("/console/admin/tenants", data)
        assert r.status_code == 200 and "shown only this once" in r.text
        password = re.search(r'<code id="once-password">([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
        pat = re.search(r'<code id="once-token">([^<]+)</code>', r.text).group(1)  # type: ignore[union-attr]
        me = await client.get("/me", headers={"x-pat-jwt": f"Bearer {pat}"})
        assert me.json()["tenantId"] == "globex"
        listing = await console.client.get("/console/admin/tenants")
        assert "globex" in listing.text and pat not in listing.text and password not in listing.text
        async with second_client(runtime) as other:
            assert (await Console(other).sign_in("globex", "hank", password)).status_code == 303

    async def test_system_shows_masked_settings_and_the_routes(self, console: Console, factory: Factory) -> None:
        await factory.create_tenant("admin", password=PASSWORD)
        await console.signed_in("admin")
        page = await console.client.get("/console/admin/system")
        assert page.status_code == 200 and f"mediaplane {__version__}" in page.text
        assert TEST_SECRET not in page.text and f"****{TEST_SECRET[-4:]}" in page.text
        facts = text_of(page.text)
        assert "console_idle_timeout PT2H" in facts and "redis_url (not set)" in facts
        assert "POST /servicetoken Trade a PAT for a service access token tokens" in facts
        assert "GET /tenants" in facts and "/docs" in facts
