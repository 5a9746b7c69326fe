"""`mediaplane pats ...`, `service-access-token` and `login`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from mediaplane.cli.profile import SavedConfig, config_path, save_config
from tests.cli.conftest import Platform
from tests.cli.processes import JWT, Cli


class TestPats:
    def test_create_list_revoke(self, platform: Platform) -> None:
        created = platform.cli.ok("pats", "create", "ci", "--json").json()
        assert created["name"] == "ci" and JWT.match(created["token"])
        ci = platform.as_token(created["token"])

        listed = {p["id"]: p for p in ci.ok("pats", "list", "--json").json()}
        assert listed[created["id"]]["revokedAt"] is None
        assert "ci" in ci.ok("pats", "list").stdout

        revoked = platform.cli.ok("pats", "revoke", created["id"], "--json").json()
        assert revoked["revokedAt"] is not None
        ci.fails("pats", "list", message="Personal access token has been revoked")
        ci.fails("service-access-token", "notes", message="revoked")

    def test_create_prints_only_the_token_on_stdout(self, platform: Platform) -> None:
        result = platform.cli.ok("pats", "create", "plain")
        assert JWT.match(result.stdout.strip()) and "Created token plain" in result.stderr

    def test_revoke_unknown(self, platform: Platform) -> None:
        platform.cli.fails("pats", "revoke", "nope", message="No token nope")

    def test_a_bad_token(self, platform: Platform) -> None:
        platform.as_token("not-a-token").fails("pats", "list", message="Invalid personal access token")


class TestServiceAccessToken:
    def test_prints_only_the_sat(self, platform: Platform) -> None:
        # OSC's variable works as well as ours.
        result = platform.anonymous.ok("service-access-token", "notes", env={"OSC_ACCESS_TOKEN": platform.acme_token})
        assert result.stdout.count("\n") == 1 and JWT.match(result.stdout.strip())

    def test_json(self, platform: Platform) -> None:
        sat = platform.cli.ok("service-access-token", "notes", "--json").json()
        assert sat["serviceId"] == "notes" and JWT.match(sat["token"]) and sat["expiry"] > 0

    def test_unknown_service(self, platform: Platform) -> None:
        platform.cli.fails("service-access-token", "nope", message="Unknown service: nope (HTTP 404)")


class TestLogin:
    def test_saves_url_and_token_after_checking_them(self, platform: Platform, cli: Cli) -> None:
        result = cli.ok("login", "--url", platform.url, "--token", platform.acme_token)
        assert "as tenant acme" in result.stderr
        saved = cli.env["XDG_CONFIG_HOME"] + "/mediaplane/config.json"
        assert stat.S_IMODE(os.stat(saved).st_mode) == 0o600
        with open(saved) as file:
            assert json.load(file) == {"url": platform.url, "token": platform.acme_token}
        # From now on neither flags nor environment are needed.
        assert cli.ok("service-access-token", "notes").stdout.strip()
        shown = cli.ok("config", "show", "--json").json()["cli"]
        assert shown["urlSource"] == "config" and shown["tokenSource"] == "config"
        assert shown["token"] != platform.acme_token and shown["token"].endswith(platform.acme_token[-4:])

    def test_a_bad_token_is_not_saved(self, platform: Platform, cli: Cli) -> None:
        cli.fails("login", "--url", platform.url, "--token", "bogus", message="Invalid personal access token")
        assert not (cli.cwd / "home" / ".config" / "mediaplane" / "config.json").exists()


class TestSavedConfig:
    def test_written_0600_under_xdg_config_home(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
        path = save_config(SavedConfig(url="http://x:1", token="t"))
        assert path == config_path() == tmp_path / "mediaplane" / "config.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
