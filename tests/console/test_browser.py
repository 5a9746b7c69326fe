"""The console in a real headless Chromium against a live server: sign in by keyboard, create a token and read it
from the page, create an instance from the catalog form (a bad value first), see it, remove it, change the
password, sign out and in again; then the same pages on a phone-sized screen, without sideways scrolling.
Screenshots of every page go to the `screenshots` fixture's folder.

The browser is the system's Chromium (Debian's `chromium`), driven by Playwright; none is downloaded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
import pytest

from mediaplane.app import create_app
from mediaplane.core.catalog import Registry
from tests.conftest import make_settings
from tests.console.conftest import PASSWORD, board_plugin
from tests.fixtures.browser import NO_SIDEWAYS_SCROLL, chromium, seed_tenants
from tests.fixtures.servers import free_port, serve_in_thread
from tests.fixtures.services import notes_spec

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, ConsoleMessage, Page

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
NEW_PASSWORD = "a brand new password"
WAIT_MS = 15_000


@contextlib.contextmanager
def live_console(tmp_path: Path) -> Iterator[str]:
    """`serve` on a free port with the notes test service (and its dashboard); tenants acme and admin with a
    password."""
    port = free_port()
    settings = make_settings(tmp_path / "data", f"sqlite+aiosqlite:///{tmp_path / 'console.db'}", port=port)
    registry = Registry([replace(notes_spec("notes"), console=board_plugin)])

    seed_tenants(settings, registry, PASSWORD, "acme", "admin")
    with serve_in_thread(create_app(settings, registry=registry), port) as url:
        yield url


class Visit:
    """One person's pages: script errors and refused resources recorded, screenshots numbered."""

    def __init__(self, context: BrowserContext, shots: Path, prefix: str) -> None:
        self.page: Page = context.new_page()
        self.page.set_default_timeout(WAIT_MS)
        self.shots, self.prefix, self.count = shots, prefix, 0
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("console", self._console)

    def _console(self, message: ConsoleMessage) -> None:
        # A refused form answers 400 or 401, which Chromium reports; anything else is a problem.
        expected = any(f"status of {code} " in message.text for code in (400, 401))
        if message.type == "error" and not expected:
            self.problems.append(f"console: {message.text} {message.location}")

    def shot(self, name: str) -> None:
        self.count += 1
        self.page.screenshot(path=self.shots / f"{self.prefix}-{self.count:02d}-{name}.png", full_page=True)

    def focused(self) -> str:
        return str(self.page.evaluate("() => document.activeElement.id || document.activeElement.className"))

    def sign_in(self, password: str, tenant: str = "acme") -> None:
        self.page.get_by_label("Tenant").fill(tenant)
        self.page.get_by_label("Username").fill("admin")
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()


def test_the_console_in_chromium(tmp_path: Path, screenshots: Path) -> None:
    shots = screenshots
    with live_console(tmp_path) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1100, "height": 800})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
        desk = Visit(context, shots, "desktop")
        page = desk.page

        # A browser at / lands on the sign-in page; signing in by keyboard alone.
        page.goto(f"{url}/")
        assert page.url == f"{url}/console/sign-in?next=/console/"
        desk.shot("sign-in")
        page.keyboard.press("Tab")
        assert desk.focused() == "skip-link"
        for _ in range(5):
            if desk.focused() == "tenant":
                break
            page.keyboard.press("Tab")
        assert desk.focused() == "tenant"
        page.keyboard.type("acme")
        page.keyboard.press("Tab")
        page.keyboard.type("admin")
        page.keyboard.press("Tab")
        assert desk.focused() == "password"
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{url}/console/")
        assert "Get started" in page.inner_text("main")
        desk.shot("overview")

        # A token, shown once, copied, and good for the API.
        page.get_by_role("link", name="Tokens", exact=True).click()
        page.get_by_label("Name").fill("laptop")
        page.get_by_role("button", name="Create token").click()
        token = page.inner_text("#new-token").strip()
        assert httpx.get(f"{url}/me", headers={"x-pat-jwt": f"Bearer {token}"}).json()["tenantId"] == "acme"
        page.get_by_role("button", name="Copy token").click()
        page.wait_for_function("() => document.querySelector('.copy-status').textContent.length > 0")
        if page.inner_text(".copy-status") == "Copied.":
            assert page.evaluate("() => navigator.clipboard.readText()") == token
        desk.shot("token-created")
        page.get_by_role("link", name="Back to the tokens").click()
        assert "laptop" in page.inner_text("table")
        desk.shot("tokens")
        page.get_by_role("button", name="Get service access token").click()
        assert page.inner_text("#sat-expiry")
        desk.shot("service-token")
        page.go_back()

        # An instance from the catalog form: a bad value first, told next to its field.
        page.get_by_role("link", name="Catalog", exact=True).click()
        desk.shot("catalog")
        page.get_by_role("link", name="Create instance of Notes (test)").click()
        page.get_by_label("Name").fill("demo")
        page.get_by_label("Motto").fill("NOT LOWER")
        page.get_by_label("Color").select_option("blue")
        page.get_by_role("button", name="Create instance").click()
        assert page.inner_text("#field-motto-error") == "Does not match [a-z ]*."
        page.wait_for_function("() => document.activeElement.id === 'field-motto'")  # the first problem has the focus
        assert page.get_by_label("Name").input_value() == "demo"
        assert page.get_by_label("Color").input_value() == "blue"
        desk.shot("create-refused")
        page.get_by_label("Motto").fill("all good")
        page.get_by_role("button", name="Create instance").click()
        assert "created" in page.inner_text("h1")
        desk.shot("instance-created")
        page.get_by_role("link", name="Open the instance").click()
        assert page.inner_text("#health") == "running"
        assert page.inner_text("#instance-url") == f"{url}/notes/acme-demo/"
        desk.shot("instance")
        page.get_by_role("link", name="Edit options of demo").click()
        page.get_by_label("Motto").fill("still good")
        page.get_by_role("button", name="Save options").click()
        assert "still good" in page.inner_text("main")
        desk.shot("options-saved")
        page.get_by_role("link", name="Notes board").click()
        assert page.inner_text("#who") == "admin@acme on notes/demo"
        desk.shot("dashboard")
        page.get_by_role("link", name="Instances", exact=True).click()
        assert "demo" in page.inner_text("table")
        desk.shot("instances")

        # Removed after a confirmation.
        page.get_by_role("link", name="demo", exact=True).click()
        page.get_by_role("link", name="Remove this instance…").click()
        desk.shot("remove-confirm")
        page.get_by_role("button", name="Remove demo").click()
        assert "You have no instances yet" in page.inner_text("main")
        desk.shot("instances-empty")

        # A new password; signed out; signed in with it.
        page.get_by_role("link", name="Account", exact=True).click()
        page.get_by_label("Current password").fill(PASSWORD)
        page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
        page.get_by_label("New password again").fill(NEW_PASSWORD)
        page.get_by_role("button", name="Change password").click()
        assert "Your password is changed" in page.inner_text("main")
        desk.shot("account")
        page.get_by_role("button", name="Sign out").click()
        assert "You are signed out" in page.inner_text("main")
        desk.sign_in(PASSWORD)
        assert "Wrong tenant, username or password." in page.inner_text("main")
        desk.sign_in(NEW_PASSWORD)
        page.wait_for_url(f"{url}/console/")
        assert desk.problems == []

        # A phone: every page fits its width.
        phone_context = browser.new_context(
            viewport={"width": 360, "height": 740}, device_scale_factor=2, is_mobile=True, has_touch=True
        )
        phone = Visit(phone_context, shots, "phone")
        phone.page.goto(f"{url}/console/catalog/notes")
        phone.sign_in(NEW_PASSWORD)
        phone.page.get_by_label("Name").fill("phone")
        phone.page.get_by_role("button", name="Create instance").click()
        phone.page.goto(f"{url}/console/tokens")
        phone.page.get_by_label("Name").fill("a-token-with-a-rather-long-name-for-a-small-screen")
        phone.page.get_by_role("button", name="Create token").click()
        assert phone.page.evaluate(NO_SIDEWAYS_SCROLL), "token-created"
        phone.shot("token-created")
        for path in ("", "tokens", "catalog", "catalog/notes", "instances", "instances/notes/phone", "account"):
            phone.page.goto(f"{url}/console/{path}")
            assert phone.page.evaluate(NO_SIDEWAYS_SCROLL), path
            phone.shot(path.replace("/", "-") or "overview")
        assert phone.problems == []
        phone_context.close()

        # The admin tenant's pages: a tenant made (its PAT and password shown once), the system's settings.
        admin = Visit(browser.new_context(viewport={"width": 1100, "height": 800}), shots, "admin")
        admin.page.goto(f"{url}/console/admin/tenants")
        admin.sign_in(PASSWORD, tenant="admin")
        admin.page.get_by_label("Tenant id").fill("beta")
        admin.page.get_by_role("button", name="Create tenant").click()
        assert "beta" in admin.page.inner_text("h1")
        admin.shot("tenant-created")
        admin.page.goto(f"{url}/console/admin/tenants")
        admin.shot("tenants")
        admin.page.goto(f"{url}/console/admin/system")
        assert "effective_database_url" in admin.page.inner_text("main")
        admin.shot("system")
        admin.page.set_viewport_size({"width": 360, "height": 740})
        for path in ("admin/tenants", "admin/system"):
            admin.page.goto(f"{url}/console/{path}")
            assert admin.page.evaluate(NO_SIDEWAYS_SCROLL), path
            admin.shot("phone-" + path.replace("/", "-"))
        assert admin.problems == []
        context.close()
    assert len(list(shots.glob("*.png"))) >= 20
