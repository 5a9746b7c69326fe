"""`mediaplane eyeson ...` against a real server: running meetings, join links, users, messages, stopping a
meeting, the team's webhook, a new API key; eyeson's `{"error": ...}` answers shown with their status.

Rooms' media are cheap here: 320x240 at 5 fps, host candidates on 127.0.0.1 only.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mediaplane.cli.errors import CliError
from mediaplane.services.eyeson import cli as eyeson_cli_module
from mediaplane.services.eyeson import cli_api, cli_view
from mediaplane.services.eyeson.cli import read_options, read_types
from mediaplane.services.eyeson.cli_api import EyesonApi, shown_key
from tests.cli.processes import Cli, ServerProcess
from tests.cli.test_rig_cli import start_server

API_KEY = "ZWY3ZjY2NjItMTQ3Ni00YWQ1LWE1ZTAtYjI3ZTRlM2Y"
KEY = re.compile(r"^[A-Za-z0-9]{42}$")
MEDIA_ENV = {
    "MEDIAPLANE_EYESON_WIDTH": "320",
    "MEDIAPLANE_EYESON_HEIGHT": "240",
    "MEDIAPLANE_EYESON_FPS": "5",
    "MEDIAPLANE_EYESON_ICE_HOST": "127.0.0.1",
}


@dataclass
class Team:
    """The server and its eyeson instance `team`, whose API key is API_KEY."""

    cli: Cli
    server: ServerProcess


@pytest.fixture(scope="module")
def team(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Team]:
    base = tmp_path_factory.mktemp("eyeson-cli")
    server, cli = start_server(base, **MEDIA_ENV)
    try:
        cli.ok("create", "eyeson", "team", "-o", f"apiKey={API_KEY}", "-o", "teamName=My Company Ltd.")
        yield Team(cli, server)
    finally:
        server.stop()
    assert "Traceback" not in server.output, server.output


def join(cli: Cli, *args: str) -> dict[str, Any]:
    answer: dict[str, Any] = cli.ok("eyeson", "join-link", "team", *args, "--json").json()
    return answer


class TestCommands:
    def test_the_group_lists_its_commands(self, team: Team) -> None:
        shown = team.cli.ok("eyeson", "--help").stdout
        for command in ("rooms", "join-link", "users", "say", "stop", "webhook", "rotate-key"):
            assert command in shown, shown
        assert "eyeson" in team.cli.ok("--help").stdout

    def test_the_key_is_the_instance_s_unless_one_is_given(self, team: Team) -> None:
        assert team.cli.ok("describe", "eyeson", "team", "--json").json()["apiKey"] == API_KEY
        assert team.cli.ok("eyeson", "rooms", "team", "--json").json() == []
        assert team.cli.ok("eyeson", "rooms", "team", "--api-key", API_KEY, "--json").json() == []
        wrong = "x" * 30
        failed = team.cli.fails(
            "eyeson", "rooms", "team", "--api-key", wrong, message="The API key was refused (invalid api key)"
        )
        assert "(HTTP 401)" in failed.stderr and "describe eyeson team" in failed.stderr
        env = {cli_api.API_KEY_ENV: wrong}
        shown = team.cli.fails("eyeson", "webhook", "team", "--json", env=env, message="refused").json()
        assert shown["status"] == 401 and "invalid api key" in shown["error"]

    def test_a_wrong_instance_name_fails_on_the_platform(self, team: Team) -> None:
        for command, *rest in (["rooms"], ["say", "X" * 24, "hi"], ["webhook"], ["rotate-key"]):
            failed = team.cli.fails("eyeson", command, "nope", *rest, message="No instance named nope")
            assert "(HTTP 404)" in failed.stderr
        shown = team.cli.fails("eyeson", "rooms", "nope", "--json", message="nope").json()
        assert shown == {"error": "No instance named nope", "status": 404}

    def test_a_meeting_from_start_to_stop(self, team: Team) -> None:
        cli = team.cli
        assert cli.ok("eyeson", "rooms", "team", "--json").json() == []
        assert "No meetings running." in cli.ok("eyeson", "rooms", "team").stderr

        answer = join(cli, "--room", "standup", "--user", "Jane Doe", "--user-id", "jane", "--room-name", "Daily")
        assert answer["room"]["id"] == "standup" and answer["room"]["name"] == "Daily"
        assert answer["user"]["id"] == "jane" and answer["user"]["name"] == "Jane Doe"
        assert answer["team"] == {"name": "My Company Ltd."}
        access_key = answer["access_key"]
        assert access_key in answer["links"]["gui"]
        assert isinstance(answer["ready"], bool)

        # For people: the link alone on stdout (and the guest link); the details on stderr.
        shown = cli.ok("eyeson", "join-link", "team", "-r", "standup", "-u", "John Roe", "--guest-link")
        gui, guest = shown.stdout.splitlines()
        assert gui.startswith("http") and guest.startswith("http") and gui != guest
        assert "access key" in shown.stderr and "guest link" in shown.stderr and "ready" in shown.stderr
        assert "standup" in shown.stderr and "John Roe" in shown.stderr

        listed = cli.ok("eyeson", "rooms", "team", "--json").json()
        assert [(r["id"], r["name"], r["shutdown"]) for r in listed] == [("standup", "Daily", False)]
        assert set(listed[0]) >= {"id", "name", "ready", "started_at", "shutdown", "guest_token"}
        table = cli.ok("eyeson", "rooms", "team").stdout
        assert "standup" in table and "Daily" in table and listed[0]["guest_token"] in table

        people = cli.ok("eyeson", "users", "team", "standup", "--json").json()
        assert sorted(p["name"] for p in people) == ["Jane Doe", "John Roe"]
        assert all(p["room_id"] == "standup" for p in people)
        assert cli.ok("eyeson", "users", "team", "standup", "--online", "--json").json() == []  # no media yet
        offline = cli.ok("eyeson", "users", "team", "standup", "--offline", "--json").json()
        assert sorted(p["id"] for p in offline) == sorted(p["id"] for p in people)
        assert "Jane Doe" in cli.ok("eyeson", "users", "team", "standup").stdout

        said = cli.ok("eyeson", "say", "team", access_key, "Hello, room", "--json").json()
        assert said == {"sent": True, "type": "chat", "content": "Hello, room"}
        assert "Sent a custom message" in cli.ok("eyeson", "say", "team", access_key, "{}", "--type", "custom").stderr
        cli.fails("eyeson", "say", "team", access_key, "hi", "--type", "shout", message="shout", code=2)
        cli.fails("eyeson", "say", "team", "X" * 24, "hi", message="unknown access key (HTTP 404)")

        assert cli.ok("eyeson", "stop", "team", "standup", "--json").json() == {"room": "standup", "stopped": True}
        assert cli.ok("eyeson", "rooms", "team", "--json").json() == []
        gone = cli.fails("eyeson", "say", "team", access_key, "still here?", "--json", message="meeting has ended")
        assert gone.json() == {"error": "meeting has ended", "status": 410}
        cli.fails("eyeson", "stop", "team", "standup", message="unknown room, or no meeting running in it (HTTP 404)")
        # The users of the last meeting stay listed; a room that never met is unknown.
        assert len(cli.ok("eyeson", "users", "team", "standup", "--json").json()) == 2
        cli.fails("eyeson", "users", "team", "never-met", message="unknown room (HTTP 404)")

    def test_room_options_are_sent_as_options_fields(self, team: Team) -> None:
        args = ["--room", "quiet", "--user", "Ann", "-o", "show_names=false", "-o", "guest_token_available=false"]
        answer = join(team.cli, *args)
        assert answer["options"]["show_names"] is False
        assert "guest_join" not in answer["links"] and "guest_token" not in answer["room"]
        team.cli.fails("eyeson", "join-link", "team", "-r", "quiet", "-u", "Bo", "-g", message="has no guest link")
        team.cli.fails("eyeson", "join-link", "team", "-u", "Bo", "-o", "novalue", message="give KEY=VALUE")
        team.cli.fails("eyeson", "join-link", "team", "--room", "quiet", message="--user", code=2)
        team.cli.ok("eyeson", "stop", "team", "quiet")

    def test_a_new_meeting_gets_an_id_of_its_own(self, team: Team) -> None:
        first, second = join(team.cli, "--user", "Ann"), join(team.cli, "--user", "Bo")
        assert first["room"]["id"] != second["room"]["id"] and first["access_key"] != second["access_key"]
        for answer in (first, second):
            team.cli.ok("eyeson", "stop", "team", answer["room"]["id"])
        assert team.cli.ok("eyeson", "rooms", "team", "--json").json() == []

    def test_the_webhook_is_shown_set_and_cleared(self, team: Team) -> None:
        cli = team.cli
        assert "No webhook." in cli.ok("eyeson", "webhook", "team").stderr
        assert cli.ok("eyeson", "webhook", "team", "--json").json() is None

        target = "http://127.0.0.1:9/hooks/eyeson"
        hook = cli.ok("eyeson", "webhook", "team", "--webhook-url", target, "--types", "room_update", "--json").json()
        assert hook["url"] == target and hook["types"] == "room_update" and hook["id"]
        assert cli.ok("eyeson", "webhook", "team", "--json").json()["id"] == hook["id"]
        replaced = cli.ok("eyeson", "webhook", "team", "-w", target, "--json").json()
        assert replaced["types"] == "room_update,recording_update" and replaced["id"] != hook["id"]
        shown = cli.ok("eyeson", "webhook", "team").stdout
        assert target in shown and "recording_update" in shown

        cli.fails("eyeson", "webhook", "team", "-w", target, "--types", "everything", message="give one or more of")
        cli.fails("eyeson", "webhook", "team", "--types", "room_update", message="--types goes with --webhook-url")
        cli.fails("eyeson", "webhook", "team", "--clear", "-w", target, message="without --webhook-url")
        refused = cli.fails("eyeson", "webhook", "team", "-w", "ftp://example.com/x", "--json", message="http(s) URL")
        assert refused.json()["status"] == 400

        assert cli.ok("eyeson", "webhook", "team", "--clear", "--json").json() == {"removed": replaced["id"]}
        assert "No webhook to remove" in cli.ok("eyeson", "webhook", "team", "--clear").stderr
        assert cli.ok("eyeson", "webhook", "team", "--json").json() is None

    def test_rotate_key_gives_the_instance_a_new_key(self, team: Team) -> None:
        cli = team.cli
        cli.ok("create", "eyeson", "spare", "-o", f"apiKey={API_KEY}")
        rotated = cli.ok("eyeson", "rotate-key", "spare")
        key = rotated.stdout.strip()
        assert KEY.match(key) and key != API_KEY and "new API key" in rotated.stderr
        assert cli.ok("describe", "eyeson", "spare", "--json").json()["apiKey"] == key
        cli.fails("eyeson", "rooms", "spare", "--api-key", API_KEY, message="invalid api key")
        assert cli.ok("eyeson", "rooms", "spare", "--json").json() == []  # the instance's new key

        again = cli.ok("eyeson", "rotate-key", "spare", "--json").json()
        assert again["name"] == "spare" and KEY.match(again["apiKey"]) and again["apiKey"] != key
        cli.fails("eyeson", "webhook", "spare", "--api-key", key, message="invalid api key")
        assert cli.ok("eyeson", "rooms", "spare", "--api-key", again["apiKey"], "--json").json() == []
        # The other instance keeps its key.
        assert cli.ok("eyeson", "rooms", "team", "--api-key", API_KEY, "--json").json() == []


class TestHelpers:
    def test_room_options_become_options_fields(self) -> None:
        given = ["show_names=false", "custom_fields[locale]=de", "exit_url=https://x.test/?a=b"]
        assert read_options(given) == {
            "options[show_names]": "false",
            "options[custom_fields][locale]": "de",
            "options[exit_url]": "https://x.test/?a=b",
        }
        for bad in ("show_names", "=x"):
            with pytest.raises(CliError, match="KEY=VALUE"):
                read_options([bad])

    def test_webhook_types(self) -> None:
        assert read_types(" room_update , recording_update,room_update") == "room_update,recording_update"
        for bad in ("", ",", "room_update,nope"):
            with pytest.raises(CliError, match="give one or more of"):
                read_types(bad)

    def test_a_masked_key_is_no_key(self) -> None:
        assert shown_key("********") is None and shown_key("") is None and shown_key(None) is None
        assert shown_key(API_KEY) == API_KEY

    def test_no_key_says_where_to_get_one(self) -> None:
        """Where the platform masks the key (or there is none), nothing is sent without --api-key."""
        with (
            EyesonApi("http://127.0.0.1:9/eyeson/admin-team", api_key=None, key_hint=cli_api.key_hint("team")) as api,
            pytest.raises(
                CliError, match=re.escape("No API key for the eyeson instance at http://127.0.0.1:9/eyeson/admin-team/")
            ),
        ):
            api.rooms()

    def test_the_cli_modules_import_no_server_code(self) -> None:
        allowed = ("typer", "rich", "httpx", "mediaplane.cli", "mediaplane.services.eyeson.cli")
        for module in (eyeson_cli_module, cli_api, cli_view):
            tree = ast.parse(Path(str(module.__file__)).read_text())
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    ok = top in sys.stdlib_module_names or name.startswith(allowed) or name == "__future__"
                    assert ok, f"{module.__name__} imports {name}"
