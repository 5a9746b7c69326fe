"""Generated passwords (light to import: the CLI uses it before it decides whether it needs the core)."""

from __future__ import annotations

import secrets


def generate_password() -> str:
    """A console password for a new user, shown once: 120 random bits, easy to copy (letters and digits)."""
    return secrets.token_urlsafe(15).replace("-", "x").replace("_", "y")
