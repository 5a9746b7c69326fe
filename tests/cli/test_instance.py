"""Instance commands against the test-only `notes` service: create, list, describe, logs, health, remove."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from mediaplane.cli.errors import CliError
from mediaplane.cli.instance import parse_instance_options, safe_name
from tests.cli.conftest import Platform


class TestParseInstanceOptions:
    def test_dotted_keys_nest_and_later_equals_signs_stay(self) -> None:
        pairs = ["opts.preroll.url=http://a/b?c=d", "opts.preroll.ms=500", "color=red"]
        assert parse_instance_options(pairs) == {
            "opts": {"preroll": {"url": "http://a/b?c=d", "ms": "500"}},
            "color": "red",
        }

    @pytest.mark.parametrize(
        ("pairs", "message"),
        [
            (["novalue"], "expected key=value"),
            (["=x"], "expected key=value"),
            (["a..b=1"], "expected key=value"),
            (["a=1", "a.b=2"], "conflicts with a=1"),
            (["a.b=2", "a=1"], "conflicts with the nested options"),
            (["name=x"], "NAME argument"),
        ],
    )
    def test_mistakes(self, pairs: list[str], message: str) -> None:
        with pytest.raises(CliError, match=message):
            parse_instance_options(pairs)

    def test_safe_name(self) -> None:
        assert safe_name("My-Notes_1!") == "mynotes1"


class TestLifecycle:
    def test_create_list_describe_logs_health_restart_remove(self, platform: Platform) -> None:
        cli = platform.cli
        created = cli.ok("create", "notes", "first", "-o", "color=red", "--instance-options", "loud=true", "--json")
        instance = created.json()
        assert (instance["name"], instance["color"], instance["loud"]) == ("first", "red", True)
        assert instance["url"] == f"{platform.url}/notes/acme-first/"
        assert "Instance created" in created.stderr

        assert "first" in [i["name"] for i in cli.ok("list", "notes", "--json").json()]
        assert "first" in cli.ok("list", "notes").stdout

        assert cli.ok("describe", "notes", "first", "--json").json()["color"] == "red"
        described = cli.ok("describe", "notes", "first").stdout
        assert "red" in described and "1935" in described and "_links" not in described

        assert cli.ok("health", "notes", "first").stdout == "running\n"
        assert cli.ok("health", "notes", "first", "--json").json() == {"status": "running"}

        cli.ok("restart", "notes", "first")
        lines = cli.ok("logs", "notes", "first", "--json").json()["lines"]
        assert any("instance first created" in line for line in lines)
        assert any("instance restarted" in line for line in lines)

        removed = cli.ok("remove", "notes", "first", "-y", "--json").json()
        assert removed == {"serviceId": "notes", "name": "first", "removed": True}
        cli.fails("describe", "notes", "first", message="No instance named first (HTTP 404)")

    def test_safe_name(self, platform: Platform) -> None:
        created = platform.cli.ok("create", "notes", "Safe-Name_2", "--safe-name", "--json").json()
        assert created["name"] == "safename2"

    def test_instances_of_other_tenants_are_invisible(self, platform: Platform) -> None:
        platform.cli.ok("create", "notes", "private")
        admin = platform.as_token(platform.admin_token)
        assert "private" not in [i["name"] for i in admin.ok("list", "notes", "--json").json()]
        admin.fails("describe", "notes", "private", message="No instance named private")


class TestErrors:
    def test_bad_name(self, platform: Platform) -> None:
        platform.cli.fails("create", "notes", "Bad_Name", message="Invalid name: Bad_Name")

    def test_unknown_service(self, platform: Platform) -> None:
        assert platform.cli.fails("list", "nope", "--json", message="Unknown service: nope").json() == {
            "error": "Unknown service: nope",
            "status": 404,
        }

    def test_bad_option_values(self, platform: Platform) -> None:
        message = "option color must be one of: red, blue"
        platform.cli.fails("create", "notes", "x", "-o", "color=green", message=message)
        platform.cli.fails("create", "notes", "x", "-o", "a.b=1", message="Unknown option for notes: a")

    def test_existing_name(self, platform: Platform) -> None:
        platform.cli.ok("create", "notes", "twice")
        platform.cli.fails("create", "notes", "twice", message="already exists (HTTP 409)")

    def test_no_token(self, platform: Platform) -> None:
        platform.anonymous.fails("list", "notes", message="No access token")


def remove_on_a_terminal(platform: Platform, name: str, answer: str) -> tuple[int, str]:
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mediaplane", "remove", "notes", name],
            stdin=secondary,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=platform.cli.env,
            cwd=platform.cli.cwd,
            text=True,
        )
        os.write(primary, f"{answer}\n".encode())
        _, err = proc.communicate(timeout=60)
    finally:
        os.close(primary)
        os.close(secondary)
    return proc.returncode, err


def test_remove_asks_first(platform: Platform) -> None:
    platform.cli.ok("create", "notes", "ask")
    platform.cli.fails("remove", "notes", "ask", message="stdin is not a terminal): pass -y/--yes")

    code, err = remove_on_a_terminal(platform, "ask", "no")
    assert "Are you sure you want to remove ask? (yes/no)" in err
    assert code == 1 and "ask was not removed" in err

    code, err = remove_on_a_terminal(platform, "ask", "yes")
    assert code == 0 and "Removed notes instance ask" in err, err
    platform.cli.fails("health", "notes", "ask", message="No instance named ask")
