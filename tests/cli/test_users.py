"""`mediaplane users list|add|passwd|remove` on the data dir, while the server runs on it."""

from __future__ import annotations

from tests.cli.conftest import Platform
from tests.console.signin import console_sign_in


def test_add_passwd_and_sign_in_to_the_running_server(platform: Platform) -> None:
    cli, data = platform.anonymous, str(platform.data_dir)
    on_acme = ("--tenant", "acme", "--data", data)
    cli.ok("users", "add", "bob", *on_acme, "--password-stdin", input="bob's password\n")
    assert console_sign_in(platform.url, "acme", "bob's password", username="bob") == 303
    cli.fails("users", "add", "bob", *on_acme, "--generate", message="already a user 'bob'")
    out = cli.ok("users", "passwd", "bob", *on_acme, "--generate").stdout.splitlines()
    assert out[0].startswith("Set the password of bob") and out[1].startswith("Console password of bob")
    assert console_sign_in(platform.url, "acme", out[2], username="bob") == 303
    assert console_sign_in(platform.url, "acme", "bob's password", username="bob") == 401
    rows = cli.ok("--json", "users", "list", *on_acme).json()
    assert {(u["username"], u["canSignIn"]) for u in rows} >= {("admin", True), ("bob", True)}


def test_remove_but_never_the_last_user(platform: Platform) -> None:
    cli, data = platform.anonymous, str(platform.data_dir)
    cli.ok("tenants", "create", "soloco", "--data", data, "--quiet")
    on_solo = ("--tenant", "soloco", "--data", data)
    cli.ok("users", "add", "carol", *on_solo, "--password-stdin", input="carol's password\n")
    cli.fails("users", "remove", "carol", *on_solo, input="n\n", message="Nothing removed")
    assert "Removed user carol" in cli.ok("users", "remove", "carol", *on_solo, "--yes").stdout
    cli.fails("users", "remove", "admin", *on_solo, "--yes", message="the tenant's last user")
    cli.fails("users", "passwd", "nobody", *on_solo, "--generate", message="There is no user 'nobody'")
    cli.fails("users", "list", "--tenant", "nosuch", "--data", data, message="There is no tenant nosuch")
    cli.fails("users", "add", "dave", *on_solo, "--password-stdin", input="short\n", message="at least 8")
