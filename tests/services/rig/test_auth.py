"""rig's own accounts and tokens: per-instance keys, expiry on the runtime clock, no platform token involved."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import jwt
import pytest
from sqlalchemy import select

from mediaplane.core.instance.models import Instance
from mediaplane.kit.clock import FrozenClock
from mediaplane.services.rig.tokens import AUDIENCE, signing_key
from tests.services.rig.conftest import PASSWORD, Rig, error_of, make_rig


async def test_the_token_carries_rigs_claims(rig: Rig, clock: FrozenClock) -> None:
    token = await rig.signup()
    claims = jwt.decode(token, options={"verify_signature": False})
    assert jwt.get_unverified_header(token)["alg"] == "HS256"
    assert set(claims) == {"ist", "iss", "sub", "aud", "exp", "iat"}
    assert (claims["ist"], claims["sub"], claims["aud"]) == ("user", "foobar", AUDIENCE)
    assert claims["iat"] == clock.timestamp()
    assert claims["exp"] - claims["iat"] == int(timedelta(days=28).total_seconds())


async def test_a_token_expires_after_28_days(rig: Rig, clock: FrozenClock) -> None:
    token = await rig.signup()
    clock.advance(timedelta(days=27, hours=23))
    assert await rig.ok("GET", "/streams/", token=token) == []
    clock.advance(timedelta(hours=1, seconds=1))
    r = await rig.request("GET", "/streams/", token=token)
    assert error_of(r) == (401, 1003)
    assert r.json()["message"] == "Invalid credentials"


async def test_a_token_of_another_instance_is_refused(rig: Rig, factory: Any, client: Any, runtime: Any) -> None:
    token = await rig.signup()
    other = Rig(client, runtime, rig.sat, "other", await factory.create_instance(rig.sat, "rig", "other"))
    r = await other.request("GET", "/streams/", token=token)
    assert error_of(r) == (401, 1003)
    # The same username may exist in both, and each token works only at home.
    other_token = await other.signup()
    assert await other.ok("GET", "/streams/", token=other_token) == []
    assert error_of(await rig.request("GET", "/streams/", token=other_token)) == (401, 1003)


async def test_a_token_with_other_claims_is_refused(rig: Rig, runtime: Any) -> None:
    token = await rig.signup()
    claims = jwt.decode(token, options={"verify_signature": False})
    async with runtime.db.session() as session:
        instance = (await session.execute(select(Instance).where(Instance.name == rig.name))).scalar_one()
    key = signing_key(runtime, instance)
    assert await rig.ok("GET", "/streams/", token=jwt.encode(claims, key, algorithm="HS256")) == []
    for changed in [{"ist": "invite"}, {"aud": "someone.else"}, {"iss": "7217b0b6-d735-4ba9-bda8-419b1b397ede"}]:
        forged = jwt.encode({**claims, **changed}, key, algorithm="HS256")
        assert error_of(await rig.request("GET", "/streams/", token=forged)) == (401, 1003), changed
    guessed = jwt.encode(claims, "a guessed key that is long enough for HS256", algorithm="HS256")
    assert error_of(await rig.request("GET", "/streams/", token=guessed)) == (401, 1003)


async def test_a_platform_token_in_x_jwt_does_nothing(rig: Rig) -> None:
    r = await rig.request("GET", "/streams/", headers={"x-jwt": f"Bearer {rig.sat}"})
    assert error_of(r) == (401, 1003)
    r = await rig.request("GET", "/streams/", headers={"Authorization": f"Bearer {rig.sat}"})
    assert error_of(r) == (401, 1003)
    # And the rig API works without any platform token.
    token = await rig.signup()
    assert await rig.ok("GET", "/streams/", token=token, headers={"x-jwt": "Bearer garbage"}) == []


async def test_password_change_then_login_with_the_new_password(rig: Rig) -> None:
    token = await rig.signup()
    body = {"oldPassword": PASSWORD, "newPassword": "Ar3YouComingToTheTree"}
    assert await rig.ok("POST", "/accounts/password", token=token, json=body) == {"username": "foobar"}
    old = await rig.request("POST", "/accounts/auth/local", json={"username": "foobar", "password": PASSWORD})
    assert error_of(old) == (401, 1003)
    new = {"username": "foobar", "password": "Ar3YouComingToTheTree"}
    assert (await rig.ok("POST", "/accounts/auth/local", json=new))["username"] == "foobar"


async def test_password_change_needs_a_token(rig: Rig) -> None:
    body = {"oldPassword": PASSWORD, "newPassword": "Ar3YouComingToTheTree"}
    r = await rig.request("POST", "/accounts/password", json=body)
    assert error_of(r) == (401, 1003)


@pytest.mark.parametrize(
    ("body", "code", "details"),
    [
        ({"oldPassword": PASSWORD}, 1004, {"newPassword": ["zero value"]}),
        ({"oldPassword": PASSWORD, "newPassword": "short"}, 1005, {"newPassword": ["less than min"]}),
    ],
)
async def test_password_change_validation(rig: Rig, body: dict[str, str], code: int, details: object) -> None:
    token = await rig.signup()
    r = await rig.request("POST", "/accounts/password", token=token, json=body)
    assert error_of(r) == (400, code)
    assert r.json()["details"] == details


async def test_closed_signup_takes_only_the_owners_token(factory: Any, client: Any, runtime: Any) -> None:
    rig = await make_rig(factory, client, runtime, allowSignup=False)
    body = {"username": "foobar", "password": PASSWORD, "email": "f@example.com"}
    r = await rig.request("POST", "/accounts/", json=body)
    assert error_of(r) == (401, 1003)
    other = await factory.create_tenant("other")
    foreign_sat = await factory.sat(other.pat, "rig")
    r = await rig.request("POST", "/accounts/", json=body, headers={"x-jwt": f"Bearer {foreign_sat}"})
    assert error_of(r) == (401, 1003)
    created = await rig.ok("POST", "/accounts/", json=body, headers={"x-jwt": f"Bearer {rig.sat}"})
    assert created["username"] == "foobar"
    assert (await rig.ok("POST", "/accounts/auth/local", json={"username": "foobar", "password": PASSWORD}))["token"]
