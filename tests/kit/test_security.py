from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from mediaplane.config import ConfigError, Settings
from mediaplane.kit.clock import FrozenClock
from mediaplane.kit.security import (
    TokenError,
    TokenExpired,
    TokenSigner,
    hash_password,
    sign_webhook,
    use_password_hash,
    verify_password,
    verify_webhook,
)

SECRET = "s" * 40


def test_passwords_are_hashed_with_argon2() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2")
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong")
    assert not verify_password("not-a-hash", "correct horse")


def test_the_default_hash_is_rfc_9106s_and_the_fast_one_is_for_dev_only(tmp_path: Path) -> None:
    base = {"data_dir": tmp_path, "secret_key": "k" * 40}
    try:
        Settings(**base, env="production").prepared()  # type: ignore[arg-type]
        assert hash_password("x").startswith("$argon2id$v=19$m=65536,t=3,p=4$")
        Settings(**base, env="dev", password_hash="argon2id-fast").prepared()  # type: ignore[arg-type]
        fast = hash_password("x")
        assert fast.startswith("$argon2id$v=19$m=8192,t=1,p=1$") and verify_password(fast, "x")
        with pytest.raises(ConfigError, match="for tests only"):
            Settings(**base, env="production", password_hash="argon2id-fast").prepared()  # type: ignore[arg-type]
    finally:
        use_password_hash("argon2id")


class TestTokenSigner:
    def test_round_trip_and_expiry(self) -> None:
        clock = FrozenClock()
        signer = TokenSigner(SECRET, "sat:encore", clock=clock)
        token = signer.sign({"tenantId": "acme"}, lifetime_seconds=60)
        assert signer.verify(token)["tenantId"] == "acme"
        clock.advance(timedelta(seconds=60))
        with pytest.raises(TokenExpired):
            signer.verify(token)

    def test_purpose_and_secret_bind_the_token(self) -> None:
        token = TokenSigner(SECRET, "sat:encore").sign({"x": 1})
        with pytest.raises(TokenError):
            TokenSigner(SECRET, "sat:rig").verify(token)
        with pytest.raises(TokenError):
            TokenSigner("t" * 40, "sat:encore").verify(token)
        with pytest.raises(TokenError):
            TokenSigner(SECRET, "sat:encore").verify(token[:-2] + "xx")


class TestWebhookSignature:
    def test_valid(self) -> None:
        header = sign_webhook("hook-secret", b'{"a":1}')
        assert verify_webhook("hook-secret", b'{"a":1}', header)

    @pytest.mark.parametrize("header", ["", "t=1", "v1=abc", "t=x,v1=abc", "garbage"])
    def test_malformed_headers(self, header: str) -> None:
        assert not verify_webhook("hook-secret", b"{}", header)

    def test_tampered_stale_or_wrong_secret(self) -> None:
        header = sign_webhook("hook-secret", b"{}")
        assert not verify_webhook("hook-secret", b"{ }", header)
        assert not verify_webhook("other", b"{}", header)
        old = sign_webhook("hook-secret", b"{}", timestamp=int(time.time()) - 3600)
        assert not verify_webhook("hook-secret", b"{}", old)
