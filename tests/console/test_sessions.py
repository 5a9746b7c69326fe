"""Signing in and out: cookie flags, stored hashes, expiry, lockout, password change, bad input."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from mediaplane.app import create_app
from mediaplane.config import Settings
from mediaplane.console.models import ConsoleSession
from mediaplane.core.runtime import Runtime
from mediaplane.kit.clock import FrozenClock
from mediaplane.kit.security import sha256_hex
from tests.conftest import make_settings
from tests.console.conftest import ORIGIN, PASSWORD, Console
from tests.fixtures.factories import Factory

WRONG = "Wrong tenant, username or password."
DEFAULTS = {name: field.default for name, field in Settings.model_fields.items()}
IDLE_TIMEOUT, ABSOLUTE_TIMEOUT = DEFAULTS["console_idle_timeout"], DEFAULTS["console_session_lifetime"]
MAX_FAILURES, FAILURE_WINDOW = DEFAULTS["console_lockout_attempts"], DEFAULTS["console_lockout_window"]


async def session_rows(runtime: Runtime) -> list[ConsoleSession]:
    async with runtime.db.session() as session:
        return list((await session.execute(select(ConsoleSession))).scalars())


@asynccontextmanager
async def second_client(runtime: Runtime, base_url: str = ORIGIN) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(runtime=runtime)), base_url=base_url
    ) as c:
        yield c


class TestSignIn:
    async def test_a_strict_httponly_cookie_whose_hash_alone_is_stored(
        self, console: Console, runtime: Runtime
    ) -> None:
        r = await console.sign_in(next_="/console/tokens")
        assert (r.status_code, r.headers["location"]) == (303, "/console/tokens")
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("mediaplane_console="))
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert {"httponly", "samesite=strict", "path=/console"} <= set(flags)
        assert "secure" not in flags  # plain http here
        assert f"max-age={int(ABSOLUTE_TIMEOUT.total_seconds())}" in flags
        value = console.session_cookie
        assert value
        [row] = await session_rows(runtime)
        assert row.id == sha256_hex(value) and value not in row.id
        assert (await console.client.get("/console/tokens")).status_code == 200

    async def test_the_cookie_is_secure_over_https(self, runtime: Runtime, acme: object) -> None:
        async with second_client(runtime, "https://testserver") as client:
            https = Console(client)
            token = await https.sign_in_form()
            data = {"csrf_token": token, "tenant": "acme", "username": "admin", "password": PASSWORD}
            r = await client.post("/console/sign-in", data=data, headers={"origin": "https://testserver"})
            assert r.status_code == 303, r.text
            cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("mediaplane_console="))
            assert "secure" in cookie.lower()
            assert (await client.get("/console/")).status_code == 200

    async def test_wrong_credentials_get_one_message_and_keep_the_form(
        self, console: Console, factory: Factory
    ) -> None:
        await factory.create_tenant("nopass")  # a user without a password cannot sign in
        for tenant, username, password in (
            ("acme", "admin", "not the password"),
            ("acme", "nobody", PASSWORD),
            ("nowhere", "admin", PASSWORD),
            ("nopass", "admin", ""),
            ("nopass", "admin", "anything at all"),
        ):
            r = await console.sign_in(tenant, username, password)
            expected = 400 if not password else 401
            assert r.status_code == expected, (tenant, username, r.text)
            assert "sign-in-error" in r.text and f'value="{username}"' in r.text
            if password:
                assert WRONG in r.text and password not in r.text
        assert console.session_cookie is None

    async def test_five_failures_lock_the_user_out_for_a_while(
        self, console: Console, clock: FrozenClock, factory: Factory
    ) -> None:
        await factory.create_tenant("beta", password=PASSWORD)
        for _ in range(MAX_FAILURES):
            assert (await console.sign_in(password="guess")).status_code == 401
        locked = await console.sign_in()  # even the right password
        assert locked.status_code == 429 and "Too many failed sign-ins" in locked.text
        assert 0 < int(locked.headers["retry-after"]) <= FAILURE_WINDOW.total_seconds()
        assert (await console.sign_in("beta")).status_code == 303  # another user is not affected
        console.client.cookies.clear()
        clock.advance(FAILURE_WINDOW + timedelta(seconds=1))
        assert (await console.sign_in()).status_code == 303

    async def test_bad_input_is_never_a_server_error(self, console: Console) -> None:
        token = await console.sign_in_form()
        bodies: list[dict[str, str]] = [
            {},
            {"csrf_token": token},
            {"csrf_token": token, "tenant": "ac\x00me", "username": "ad\x00min", "password": "x\x00y"},
            {"csrf_token": token, "tenant": "a" * 5000, "username": "b" * 5000, "password": "c" * 5000},
            {"csrf_token": token, "tenant": "ACME ", "username": " admin", "password": PASSWORD * 100},
            {"csrf_token": token, "tenant": "\u202e\U0001f600", "username": "é", "password": "ü"},
        ]
        for body in bodies:
            r = await console.client.post("/console/sign-in", data=body, headers={"origin": ORIGIN})
            assert r.status_code in (400, 401, 403), (body, r.status_code, r.text)
        garbage = await console.client.post(
            "/console/sign-in",
            content=b"--x\r\nnot a part",
            headers={"content-type": "multipart/form-data; boundary=x", "origin": ORIGIN},
        )
        assert garbage.status_code in (400, 403)
        assert (await console.client.get("/console/sign-in", params={"next": "\x00" * 3000})).status_code == 200

    async def test_the_tenant_id_is_read_in_lower_case(self, console: Console) -> None:
        assert (await console.sign_in(" ACME ")).status_code == 303


class TestSession:
    async def test_pages_send_strangers_to_sign_in_and_back(self, console: Console) -> None:
        r = await console.client.get("/console/tokens", params={"x": "1"})
        assert (r.status_code, r.headers["location"]) == (303, "/console/sign-in?next=/console/tokens%3Fx%3D1")
        page = await console.client.get(r.headers["location"])
        assert 'name="next" value="/console/tokens?x=1"' in page.text
        for target in ("https://evil.example/", "//evil.example/", "/console//evil.example", "/other/"):
            console.client.cookies.clear()
            assert (await console.sign_in(next_=target)).headers["location"] == "/console/"
        console.client.cookies.clear()
        back = await console.sign_in(next_="/console/tokens?x=1")
        assert back.headers["location"] == "/console/tokens?x=1"
        # Signed in, the sign-in page goes straight on.
        r = await console.client.get("/console/sign-in", params={"next": "/console/catalog"})
        assert (r.status_code, r.headers["location"]) == (303, "/console/catalog")

    async def test_an_idle_session_ends(self, console: Console, clock: FrozenClock, runtime: Runtime) -> None:
        await console.signed_in()
        clock.advance(IDLE_TIMEOUT - timedelta(minutes=1))
        assert (await console.client.get("/console/")).status_code == 200  # activity moves the idle deadline
        clock.advance(IDLE_TIMEOUT - timedelta(minutes=1))
        assert (await console.client.get("/console/")).status_code == 200
        clock.advance(IDLE_TIMEOUT)
        r = await console.client.get("/console/")
        assert r.status_code == 303 and r.headers["location"].startswith("/console/sign-in")
        assert await session_rows(runtime) == []

    async def test_an_active_session_ends_all_the_same(self, console: Console, clock: FrozenClock) -> None:
        await console.signed_in()
        step = IDLE_TIMEOUT - timedelta(minutes=5)
        elapsed = timedelta(0)
        while elapsed + step < ABSOLUTE_TIMEOUT:
            clock.advance(step)
            elapsed += step
            assert (await console.client.get("/console/")).status_code == 200
        clock.advance(ABSOLUTE_TIMEOUT - elapsed)
        assert (await console.client.get("/console/")).status_code == 303

    async def test_sign_out_ends_the_session_for_good(self, console: Console, runtime: Runtime) -> None:
        await console.signed_in()
        value = console.session_cookie
        r = await console.post("/console/sign-out")
        assert (r.status_code, r.headers["location"]) == (303, "/console/sign-in?done=signed-out")
        assert console.session_cookie is None
        assert "You are signed out" in (await console.client.get(r.headers["location"])).text
        assert await session_rows(runtime) == []
        # The old cookie, replayed, signs nobody in.
        replay = await console.client.get("/console/", headers={"cookie": f"mediaplane_console={value}"})
        assert replay.status_code == 303


class TestSettings:
    @pytest.fixture
    def settings(self, tmp_path: Path, database_url: str) -> Settings:
        limits = {
            "console_idle_timeout": timedelta(minutes=10),
            "console_session_lifetime": timedelta(minutes=30),
            "console_lockout_attempts": 2,
            "console_lockout_window": timedelta(minutes=1),
        }
        return make_settings(tmp_path / "data", database_url, **limits)

    def test_they_must_be_above_zero(self) -> None:
        for name in ("console_idle_timeout", "console_session_lifetime", "console_lockout_window"):
            with pytest.raises(ValidationError, match=f"{name}\n  Value error, must be longer than 0 seconds"):
                Settings(**{name: "0"})  # type: ignore[arg-type]
        with pytest.raises(ValidationError, match="console_lockout_attempts"):
            Settings(console_lockout_attempts=0)

    async def test_the_limits_are_the_operators(self, console: Console, clock: FrozenClock) -> None:
        r = await console.sign_in()
        cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith("mediaplane_console="))
        assert "max-age=1800" in cookie.lower()
        clock.advance(timedelta(minutes=11))
        assert (await console.client.get("/console/")).status_code == 303  # idle for longer than 10 minutes
        console.client.cookies.clear()
        for _ in range(2):
            assert (await console.sign_in(password="guess")).status_code == 401
        locked = await console.sign_in()
        assert locked.status_code == 429 and int(locked.headers["retry-after"]) <= 60
        clock.advance(timedelta(minutes=1, seconds=1))
        assert (await console.sign_in()).status_code == 303
        for _ in range(3):
            clock.advance(timedelta(minutes=9))
            assert (await console.client.get("/console/")).status_code == 200
        clock.advance(timedelta(minutes=4))  # 31 minutes after sign-in, however active
        assert (await console.client.get("/console/")).status_code == 303


class TestPassword:
    async def test_change_it_and_the_other_sessions_end(self, console: Console, runtime: Runtime) -> None:
        await console.signed_in()
        async with second_client(runtime) as other_client:
            other = Console(other_client)
            await other.signed_in()
            cases = (
                ("wrong one", "a new password", "a new password", "This is not your current password."),
                (PASSWORD, "shorty", "shorty", "Use at least 8 characters."),
                (PASSWORD, "a new password", "another one", "The two new passwords differ."),
            )
            for current, new, confirm, message in cases:
                data = {"current_password": current, "new_password": new, "confirm_password": confirm}
                r = await console.post("/console/account/password", data)
                assert r.status_code == 400 and message in r.text and 'aria-invalid="true"' in r.text
                assert current not in r.text and new not in r.text  # passwords are never echoed
            data = {
                "current_password": PASSWORD,
                "new_password": "a new password",
                "confirm_password": "a new password",
            }
            r = await console.post("/console/account/password", data)
            assert (r.status_code, r.headers["location"]) == (303, "/console/account?done=password")
            assert "Your password is changed" in (await console.client.get(r.headers["location"])).text
            assert (await other_client.get("/console/")).status_code == 303  # signed out
            other_client.cookies.clear()
            assert (await other.sign_in()).status_code == 401
            assert (await other.sign_in(password="a new password")).status_code == 303
