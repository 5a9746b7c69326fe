"""Signing in to a live server's console over HTTP, as a browser's form does (for tests of the CLI's output)."""

from __future__ import annotations

import re

import httpx

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def console_sign_in(url: str, tenant: str, password: str, username: str = "admin") -> int:
    """The status of the sign-in POST: 303 when the password is right."""
    with httpx.Client(base_url=url, timeout=10) as client:
        page = client.get("/console/sign-in")
        token = CSRF_FIELD.search(page.text)
        assert token, page.text
        data = {"csrf_token": token.group(1), "tenant": tenant, "username": username, "password": password}
        return client.post("/console/sign-in", data=data, headers={"origin": url}).status_code
