"""Password hashing (argon2), signed expiring tokens (HS256 JWT), webhook signatures (HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mediaplane.kit.clock import Clock

PASSWORD_HASHES = ("argon2id", "argon2id-fast")
"""argon2id: RFC 9106's second recommended set (3 passes over 64 MiB, about 0.1 s here); argon2id-fast: one
pass over 8 MiB, for test suites that create many users (the settings refuse it outside `env=dev`)."""
_hashers = {
    "argon2id": PasswordHasher(),
    "argon2id-fast": PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1),
}
_hasher = _hashers["argon2id"]


def use_password_hash(name: str) -> None:
    """How new passwords are hashed from now on (hashes made before verify as they were made)."""
    global _hasher
    _hasher = _hashers[name]


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def derive_key(secret: str, purpose: str) -> bytes:
    """One key per purpose, so a token signed for one use never verifies for another."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def sha256_hex(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


class TokenError(Exception):
    """The token is malformed, badly signed or of the wrong kind."""


class TokenExpired(TokenError):
    pass


class TokenSigner:
    """Signs and verifies HS256 JWTs for one purpose, against an injectable clock."""

    def __init__(self, secret: str, purpose: str, issuer: str = "mediaplane", clock: Clock | None = None):
        self._key = derive_key(secret, purpose)
        self.purpose = purpose
        self.issuer = issuer
        self.clock = clock or Clock()

    def sign(self, claims: dict[str, Any], lifetime_seconds: int | None = None) -> str:
        now = self.clock.timestamp()
        payload = {**claims, "iss": self.issuer, "typ": self.purpose, "iat": now}
        if lifetime_seconds is not None:
            payload["exp"] = now + lifetime_seconds
        return jwt.encode(payload, self._key, algorithm="HS256")

    def verify(self, token: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key,
                algorithms=["HS256"],
                issuer=self.issuer,
                options={"verify_exp": False, "require": ["iat", "typ"]},
            )
        except jwt.PyJWTError as exc:
            raise TokenError(str(exc)) from exc
        if claims.get("typ") != self.purpose:
            raise TokenError("token is of the wrong kind")
        exp = claims.get("exp")
        if exp is not None and int(exp) <= self.clock.timestamp():
            raise TokenExpired("token expired")
        return claims


def sign_webhook(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """`t=<unix>,v1=<hex hmac of "t.body">`: receivers check both the signature and the age."""
    ts = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={ts},v1={mac}"


def verify_webhook(secret: str, body: bytes, header: str, tolerance_seconds: int = 300) -> bool:
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        ts = int(parts["t"])
        given = parts["v1"]
    except (KeyError, ValueError):
        return False
    if abs(time.time() - ts) > tolerance_seconds:
        return False
    expected = sign_webhook(secret, body, ts).split("v1=", 1)[1]
    return hmac.compare_digest(expected, given)
