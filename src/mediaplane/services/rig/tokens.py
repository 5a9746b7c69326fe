"""rig's user tokens: HS256 JWTs with rig's claims, signed with a key of their own per instance, so a token
of one instance never works at another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from mediaplane.core.instance.models import Instance
from mediaplane.core.runtime import Runtime
from mediaplane.kit.security import derive_key

AUDIENCE = "rig.xplex.me"
LIFETIME = timedelta(days=28)


@dataclass(frozen=True)
class UserClaims:
    user_id: str
    username: str


class InvalidToken(Exception):
    pass


def signing_key(runtime: Runtime, instance: Instance) -> bytes:
    return derive_key(runtime.settings.secret, f"rig:{instance.id}")


def issue(runtime: Runtime, instance: Instance, user_id: str, username: str) -> str:
    now = runtime.clock.timestamp()
    claims: dict[str, Any] = {
        "ist": "user",
        "iss": user_id,
        "sub": username,
        "aud": AUDIENCE,
        "exp": now + int(LIFETIME.total_seconds()),
        "iat": now,
    }
    return jwt.encode(claims, signing_key(runtime, instance), algorithm="HS256")


def verify(runtime: Runtime, instance: Instance, token: str) -> UserClaims:
    """The claims of a valid user token, or InvalidToken (bad signature, wrong audience or kind, expired)."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            signing_key(runtime, instance),
            algorithms=["HS256"],
            audience=AUDIENCE,
            # Expiry is checked against the runtime's clock below, not the wall clock.
            options={"verify_exp": False, "verify_iat": False, "require": ["exp", "iss", "sub", "aud"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from exc
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or exp <= runtime.clock.timestamp():
        raise InvalidToken("token expired")
    if claims.get("ist") != "user" or not isinstance(claims["iss"], str) or not isinstance(claims["sub"], str):
        raise InvalidToken("not a user token")
    return UserClaims(user_id=claims["iss"], username=claims["sub"])
