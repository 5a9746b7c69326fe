"""`mediaplane tenants create|list`, through the server (admin PAT) and directly on the data dir."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Platform
from tests.cli.processes import JWT, Cli
from tests.console.signin import console_sign_in


class TestCreate:
    def test_on_the_data_dir_quiet_prints_only_the_token(self, platform: Platform) -> None:
        # The fixture made acme with `tenants create acme --data DIR --quiet` while the server ran.
        result = platform.acme_created
        assert result.stdout.count("\n") == 1 and result.stderr == ""
        assert JWT.match(result.stdout.strip())
        pats = platform.cli.ok("pats", "list", "--json").json()
        # The tenant's PATs: the one made here, and any that other tests of this process made for acme since.
        assert pats and {p["tenantId"] for p in pats} == {"acme"}

    def test_through_the_server_as_admin(self, platform: Platform) -> None:
        created = platform.as_token(platform.admin_token).ok("tenants", "create", "viaapi", "--json").json()
        assert (created["id"], created["username"]) == ("viaapi", "admin")
        assert JWT.match(created["token"])
        assert len(created["password"]) >= 16  # the generated console password
        assert console_sign_in(platform.url, "viaapi", created["password"]) == 303

    def test_human_output_shows_the_token_and_password_once(self, platform: Platform) -> None:
        result = platform.as_token(platform.admin_token).ok("tenants", "create", "humanco")
        message, token, password_message, password = result.stdout.splitlines()
        assert message.startswith("Created tenant humanco (user admin)")
        assert JWT.match(token)
        assert password_message.startswith("Console password of admin (tenant humanco)")
        assert console_sign_in(platform.url, "humanco", password) == 303

    def test_with_a_password_from_the_prompt(self, platform: Platform) -> None:
        result = platform.as_token(platform.admin_token).ok(
            "tenants", "create", "pwco", "--password", "--json", input="s3cret-pass\ns3cret-pass\n"
        )
        assert result.json()["id"] == "pwco" and "password" not in result.json()
        assert console_sign_in(platform.url, "pwco", "s3cret-pass") == 303

    def test_only_the_admin_tenant_may(self, platform: Platform) -> None:
        platform.cli.fails("tenants", "create", "nope", message="Only the admin tenant may do this")

    def test_bad_and_duplicate_names(self, platform: Platform) -> None:
        data = str(platform.data_dir)
        platform.anonymous.fails("tenants", "create", "Bad_Name", "--data", data, message="Invalid tenant id")
        admin = platform.as_token(platform.admin_token)
        admin.fails("tenants", "create", "acme", message="Tenant acme already exists (HTTP 409)")

    def test_missing_data_dir(self, platform: Platform, tmp_path: Path) -> None:
        missing = str(tmp_path / "nowhere")
        platform.anonymous.fails("tenants", "create", "x", "--data", missing, message=f"No data directory at {missing}")


class TestList:
    def test_through_the_server(self, platform: Platform) -> None:
        admin = platform.as_token(platform.admin_token)
        assert {"admin", "acme"} <= {t["id"] for t in admin.ok("tenants", "list", "--json").json()}
        assert "acme" in admin.ok("tenants", "list").stdout

    def test_on_the_data_dir_found_from_the_environment(self, cli: Cli, platform: Platform) -> None:
        # No server URL configured and MEDIAPLANE_DATA_DIR exists: no server or token needed.
        rows = cli.ok("tenants", "list", "--json", env={"MEDIAPLANE_DATA_DIR": str(platform.data_dir)}).json()
        assert {"admin", "acme"} <= {t["id"] for t in rows}
