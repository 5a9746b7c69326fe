"""gosd's own OAuth tokens: the password grant in three encodings, client checks, the lockout, and every
protected route refusing a missing, unknown, expired or foreign token (the platform's SAT plays no part)."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from mediaplane.app import create_app
from mediaplane.config import Settings
from mediaplane.core.catalog import Registry
from mediaplane.core.runtime import open_runtime
from mediaplane.kit.clock import FrozenClock
from mediaplane.services.gosd.models import GosdLoginFailure, GosdToken, GosdUser
from tests.fixtures.factories import Factory
from tests.services.gosd.conftest import (
    CLIENT_ID,
    CLIENT_SECRET,
    OPTIONS,
    PASSWORD,
    USERNAME,
    Gosd,
    error_of,
    grant,
    make_gosd,
    multipart,
)

PROTECTED = [
    ("GET", "/api/v1/nodes/"),
    ("POST", "/api/v1/nodes/"),
    ("GET", "/api/v1/nodes/1"),
    ("PUT", "/api/v1/nodes/1"),
    ("DELETE", "/api/v1/nodes/1"),
    ("POST", "/api/v1/nodes/1/secret"),
    ("POST", "/api/v2/blobs/"),
    ("GET", "/api/v2/blobs/1"),
    ("PUT", "/api/v2/blobs/1"),
    ("PATCH", "/api/v2/blobs/1"),
    ("DELETE", "/api/v2/blobs/1"),
    ("POST", "/api/v2/plans/"),
    ("GET", "/api/v2/plans/"),
    ("GET", "/api/v2/plans/1"),
    ("PUT", "/api/v2/plans/1"),
    ("DELETE", "/api/v2/plans/1"),
    ("POST", "/api/v2/plans/1/jobs/"),
    ("GET", "/api/v2/plans/1/jobs/"),
    ("GET", "/api/v2/plans/1/jobs/1"),
    ("GET", "/api/v2/plans/1/jobs/1/log"),
    ("POST", "/api/v2/plans/1/jobs/1/cancel"),
    ("POST", "/api/v2/plans/1/jobs/cancel"),
    ("DELETE", "/api/v2/plans/1/jobs/running"),
    ("GET", "/api/v2/plans/1/running"),
    ("POST", "/api/v2/plans/1/running"),
    ("DELETE", "/api/v2/plans/1/running"),
    ("GET", "/api/v1/plans/1/plan_logs/"),
    ("POST", "/api/v1/plans/1/logs/"),
]


async def token_request(gosd: Gosd, **kwargs: Any) -> httpx.Response:
    return await gosd.client.post(f"{gosd.base}/oauth/token", **kwargs)


class TestToken:
    async def test_form_encoded_and_json_bodies(self, gosd: Gosd) -> None:
        for kwargs in ({"data": grant()}, {"json": grant()}, {"files": multipart(grant())}):
            r = await token_request(gosd, **kwargs)
            assert r.status_code == 200, (kwargs, r.text)
            assert await gosd.ok("GET", "/api/v2/plans/", token=r.json()["access_token"]) == []

    async def test_tokens_are_stored_hashed(self, gosd: Gosd) -> None:
        async with gosd.runtime.db.session() as session:
            stored = (await session.execute(select(GosdToken.token_hash))).scalars().all()
        assert gosd.token not in stored and len(stored) == 1 and len(stored[0]) == 64

    async def test_username_is_not_case_sensitive(self, gosd: Gosd) -> None:
        assert (await token_request(gosd, json=grant(username=USERNAME.upper()))).status_code == 200

    async def test_client_credentials_in_basic_auth(self, gosd: Gosd) -> None:
        basic = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        fields = {k: v for k, v in grant().items() if not k.startswith("client_")}
        r = await token_request(gosd, data=fields, headers={"Authorization": f"Basic {basic}"})
        assert r.status_code == 200, r.text

    @pytest.mark.parametrize(
        ("changes", "status", "code"),
        [
            ({"grant_type": "client_credentials"}, 400, "unsupported_grant_type"),
            ({"grant_type": ""}, 400, "invalid_request"),
            ({"client_id": "nope"}, 401, "invalid_client"),
            ({"client_secret": "nope"}, 401, "invalid_client"),
            ({"password": "wrong password"}, 400, "invalid_grant"),
            ({"username": "nobody"}, 400, "invalid_grant"),
            ({"password": ""}, 400, "invalid_request"),
        ],
    )
    async def test_refusals(self, gosd: Gosd, changes: dict[str, str], status: int, code: str) -> None:
        r = await token_request(gosd, files=multipart(grant(**changes)))
        assert error_of(r)[0] == status
        assert r.json()["error"] == code and code in r.json()["error_message"]

    async def test_bad_bodies(self, gosd: Gosd) -> None:
        cases: list[dict[str, Any]] = [
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            {"content": b"[1, 2]", "headers": {"content-type": "application/json"}},
            {"json": {**grant(), "username": 5}},
            {"content": b"grant_type=password", "headers": {"content-type": "text/plain"}},
            {"content": b"--x\r\nbroken", "headers": {"content-type": "multipart/form-data; boundary=x"}},
        ]
        for kwargs in cases:
            status, _ = error_of(await token_request(gosd, **kwargs))
            assert status in (400, 415), kwargs


class TestLockout:
    async def test_five_failures_lock_the_username_for_15_minutes(self, gosd: Gosd, clock: FrozenClock) -> None:
        for _ in range(5):
            assert error_of(await token_request(gosd, json=grant(password="wrong password")))[0] == 400
            clock.advance(timedelta(minutes=1))
        r = await token_request(gosd, json=grant())  # even the right password
        assert error_of(r)[0] == 429 and "locked" in r.json()["error_message"]
        assert r.headers["retry-after"] == str(10 * 60)  # the oldest failure is 5 minutes old
        clock.advance(timedelta(minutes=10))
        assert (await token_request(gosd, json=grant())).status_code == 200
        async with gosd.runtime.db.session() as session:
            assert (await session.execute(select(func.count()).select_from(GosdLoginFailure))).scalar_one() == 0

    async def test_failures_age_out_of_the_window(self, gosd: Gosd, clock: FrozenClock) -> None:
        for _ in range(4):
            await token_request(gosd, json=grant(password="wrong password"))
        clock.advance(timedelta(minutes=16))
        for _ in range(4):
            await token_request(gosd, json=grant(password="wrong password"))
        assert (await token_request(gosd, json=grant())).status_code == 200

    async def test_the_lock_is_per_username_and_instance(self, gosd: Gosd, factory: Factory) -> None:
        for _ in range(5):
            await token_request(gosd, json=grant(username="intruder"))
        assert error_of(await token_request(gosd, json=grant(username="intruder")))[0] == 429
        assert (await token_request(gosd, json=grant())).status_code == 200

    async def test_the_lock_holds_in_another_process(
        self, gosd: Gosd, settings: Settings, registry: Registry, clock: FrozenClock
    ) -> None:
        for _ in range(5):
            await token_request(gosd, json=grant(password="wrong password"))
        other = await open_runtime(settings, registry=registry, clock=clock, migrate=False)
        try:
            transport = httpx.ASGITransport(app=create_app(runtime=other))
            async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
                r = await client.post(f"{gosd.base}/oauth/token", json=grant())
        finally:
            await other.close()
        assert error_of(r)[0] == 429


class TestProtectedRoutes:
    @pytest.mark.parametrize(("method", "path"), PROTECTED)
    async def test_no_token(self, gosd: Gosd, method: str, path: str) -> None:
        r = await gosd.request(method, path, token="")
        assert error_of(r) == (401, "Access Unauthorized")
        assert r.headers["www-authenticate"].startswith("Bearer")

    async def test_unknown_malformed_or_platform_tokens(self, gosd: Gosd) -> None:
        for method, path in PROTECTED:
            for header in ("Bearer " + "0" * 64, "Bearer", "Basic abc", gosd.token, f"Bearer {gosd.sat}"):
                r = await gosd.request(method, path, token="", headers={"Authorization": header})
                assert error_of(r)[0] == 401, (method, path, header)
            r = await gosd.request(method, path, token="", headers={"x-jwt": f"Bearer {gosd.sat}"})
            assert error_of(r)[0] == 401, (method, path)

    async def test_expired_token(self, gosd: Gosd, clock: FrozenClock) -> None:
        clock.advance(timedelta(seconds=7199))
        assert await gosd.ok("GET", "/api/v2/plans/") == []
        clock.advance(timedelta(seconds=1))
        for method, path in PROTECTED:
            assert error_of(await gosd.request(method, path))[0] == 401, (method, path)

    async def test_token_of_another_instance(self, gosd: Gosd, factory: Factory) -> None:
        other = Gosd(gosd.client, gosd.runtime, gosd.sat, "other", {})
        other.instance = await factory.create_instance(gosd.sat, "gosd", "other", **OPTIONS)
        other.token = await other.login()
        for method, path in PROTECTED:
            assert error_of(await other.request(method, path, token=gosd.token))[0] == 401, (method, path)
            assert error_of(await gosd.request(method, path, token=other.token))[0] == 401, (method, path)

    async def test_scheme_is_not_case_sensitive_and_x_jwt_is_ignored(self, gosd: Gosd) -> None:
        headers = {"Authorization": f"bearer {gosd.token}", "x-jwt": "Bearer garbage"}
        assert await gosd.ok("GET", "/api/v1/nodes/", token="", headers=headers) == []


class TestInstanceOptions:
    async def test_generated_when_absent_shown_once(
        self, factory: Factory, client: httpx.AsyncClient, runtime: Any
    ) -> None:
        made = await make_gosd(factory, client, runtime)
        created = made.instance
        for option in ("username", "password", "clientId", "clientSecret"):
            assert isinstance(created[option], str) and len(created[option]) >= 6, option
        assert len(created["password"]) >= 24 and len(created["clientSecret"]) >= 24
        shown = (await client.get("/gosdinstance/fleet", headers={"x-jwt": f"Bearer {made.sat}"})).json()
        assert shown["password"] == shown["clientSecret"] == "********"
        assert (shown["username"], shown["clientId"]) == (created["username"], created["clientId"])
        assert shown["resources"]["token"]["url"].endswith("/gosd/acme-fleet/gosd/oauth/token")
        fields = grant(
            username=str(created["username"]),
            password=str(created["password"]),
            client_id=str(created["clientId"]),
            client_secret=str(created["clientSecret"]),
        )
        assert (await client.post(f"{made.base}/oauth/token", files=multipart(fields))).status_code == 200
        # Another instance gets values of its own.
        second = await factory.create_instance(made.sat, "gosd", "second")
        assert second["password"] != created["password"] and second["clientSecret"] != created["clientSecret"]

    async def test_first_user_is_hashed_with_argon2(self, gosd: Gosd) -> None:
        async with gosd.runtime.db.session() as session:
            user = (await session.execute(select(GosdUser))).scalar_one()
        assert user.username == USERNAME and user.password_hash.startswith("$argon2")
        assert PASSWORD not in user.password_hash

    async def test_changing_the_password_option(self, gosd: Gosd, client: httpx.AsyncClient) -> None:
        headers = {"x-jwt": f"Bearer {gosd.sat}"}
        r = await client.patch("/gosdinstance/fleet", headers=headers, json={"password": "A-new-password-1"})
        assert r.status_code == 200, r.text
        assert error_of(await token_request(gosd, json=grant()))[0] == 400
        assert (await token_request(gosd, json=grant(password="A-new-password-1"))).status_code == 200
        # Tokens of the old password are gone.
        assert error_of(await gosd.request("GET", "/api/v2/plans/"))[0] == 401
