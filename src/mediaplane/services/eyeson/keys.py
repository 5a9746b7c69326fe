"""The identifiers eyeson hands out: 24-hex ids (as its ObjectIds) and 24-character alphanumeric keys."""

from __future__ import annotations

import secrets

from mediaplane.services.eyeson.options import ALPHANUMERIC


def object_id() -> str:
    return secrets.token_hex(12)


def access_key() -> str:
    """A user's credential for one meeting: 24 alphanumerics, about 143 random bits."""
    return "".join(secrets.choice(ALPHANUMERIC) for _ in range(24))


guest_token = access_key
