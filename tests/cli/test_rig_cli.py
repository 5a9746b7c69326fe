"""`mediaplane rig ...` against a real `mediaplane serve`: rig accounts and their saved tokens, streams,
destinations, status; and one stream published live through the server's RTMP ingest."""

from __future__ import annotations

import json
import os
import pty
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from mediaplane.cli.errors import CliError
from mediaplane.services.rig.cli import Service, destination_body
from mediaplane.services.rig.cli_api import Credentials, RigApi, RigApiError, env_credentials, format_details
from mediaplane.services.rig.cli_tokens import SavedLogin, load_logins, save_login, saved_login
from mediaplane.services.rig.cli_view import mask_key, mask_url, obs_server, status_rows
from tests.cli.processes import EXPORTED_TOKEN, Cli, ServerProcess, clean_env
from tests.fixtures.live import publishing, wait_for
from tests.fixtures.servers import free_port

PASSWORD = "Hop0nTh4tM4ng0Tree"
NO_STREAM = "00000000-0000-4000-8000-000000000000"
YOUTUBE_KEY = "simaimsimim_siimimimiasdsr"
TWITCH_KEY = "live_123456_abcdefghij"


@dataclass
class Rig:
    """A server with the rig instance `tv` of the admin tenant; `cli` is logged in to it as alice."""

    cli: Cli
    base: Path

    def home(self, name: str) -> Cli:
        """The same server and PAT, with a config dir of its own (no saved rig login)."""
        home = self.base / name
        return Cli({**self.cli.env, "HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}, self.cli.cwd)


def start_server(base: Path, **env: str) -> tuple[ServerProcess, Cli]:
    server_env = clean_env(base / "home", **env)
    args = [sys.executable, "-m", "mediaplane", "serve", "--host", "127.0.0.1", "--port", "0", "--data"]
    server = ServerProcess([*args, str(base / "data")], server_env, base, base / "server.log").start()
    url = server.wait_listening()
    exported = EXPORTED_TOKEN.search(server.output)
    assert exported, server.output
    return server, Cli({**server_env, "MEDIAPLANE_URL": url, "MEDIAPLANE_ACCESS_TOKEN": exported.group(1)}, base)


@pytest.fixture(scope="module")
def rig(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rig]:
    base = tmp_path_factory.mktemp("rig-cli")
    server, cli = start_server(base)
    try:
        cli.ok("create", "rig", "tv")
        cli.ok("rig", "signup", "tv", "--username", "alice", "--email", "alice@example.com", "--password", PASSWORD)
        yield Rig(cli, base)
    finally:
        server.stop()
    assert "Traceback" not in server.output, server.output


def tokens_file(cli: Cli) -> Path:
    return Path(cli.env["XDG_CONFIG_HOME"]) / "mediaplane" / "rig-tokens.json"


def create_stream(cli: Cli) -> dict[str, Any]:
    stream: dict[str, Any] = cli.ok("rig", "streams", "create", "tv", "--json").json()
    return stream


def status_of(cli: Cli, stream_id: str) -> dict[str, Any]:
    shown: dict[str, Any] = cli.ok("rig", "status", "tv", stream_id, "--json").json()
    return shown


class TestAccounts:
    def test_signup_saves_the_token_for_the_instance_readable_only_by_you(self, rig: Rig) -> None:
        path = tokens_file(rig.cli)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        (url, saved), *others = json.loads(path.read_text()).items()
        assert not others and url.startswith(rig.cli.env["MEDIAPLANE_URL"]) and url.endswith("/")
        assert saved["username"] == "alice" and saved["token"].count(".") == 2
        assert isinstance(rig.cli.ok("rig", "streams", "list", "tv", "--json").json(), list)

    def test_login_with_the_password_on_stdin(self, rig: Rig) -> None:
        bob = rig.home("login-bob")
        bob.ok("rig", "signup", "tv", "-u", "bob", "-e", "bob@example.com", "--password", PASSWORD)
        tokens_file(bob).unlink()
        bob.fails("rig", "streams", "list", "tv", message="Not logged in to the rig instance")
        result = bob.ok("rig", "login", "tv", "--username", "bob", "--json", input=f"{PASSWORD}\n")
        assert result.json()["username"] == "bob" and "Logged in to rig instance tv as bob" in result.stderr
        assert stat.S_IMODE(tokens_file(bob).stat().st_mode) == 0o600
        assert bob.ok("rig", "streams", "list", "tv", "--json").json() == []

    def test_the_password_prompt_on_a_terminal_is_hidden(self, rig: Rig, tmp_path: Path) -> None:
        cli = rig.home("prompt")
        errors = tmp_path / "stderr"
        primary, secondary = pty.openpty()
        try:
            with errors.open("w") as sink:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "mediaplane", "rig", "login", "tv", "-u", "alice"],
                    stdin=secondary,
                    stdout=subprocess.DEVNULL,
                    stderr=sink,
                    env=cli.env,
                    cwd=cli.cwd,
                    start_new_session=True,  # no controlling terminal: the prompt reads the pty given as stdin
                )
                try:
                    # Typed once the prompt shows: turning echo off flushes whatever was typed before.
                    wait_for(lambda: "Password: " in errors.read_text() or proc.poll() is not None, timeout=30)
                    os.write(primary, f"{PASSWORD}\n".encode())
                    code = proc.wait(60)
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
        finally:
            os.close(primary)
            os.close(secondary)
        err = errors.read_text()
        assert code == 0, err
        assert "Logged in to rig instance tv as alice" in err and PASSWORD not in err
        assert saved_login_of(cli).username == "alice"

    def test_a_wrong_password_is_a_clear_error(self, rig: Rig) -> None:
        args = ["rig", "login", "tv", "-u", "alice", "--password", "not-the-password"]
        rig.cli.fails(*args, message="Invalid credentials: wrong username or password for tv (HTTP 401)")
        refused = rig.cli.fails(*args, "--json", message="Invalid credentials")
        assert refused.json()["status"] == 401

    def test_env_credentials_log_in_when_no_token_is_saved_or_it_is_refused(self, rig: Rig) -> None:
        cli = rig.home("env")
        env = {"MEDIAPLANE_RIG_USERNAME": "alice", "MEDIAPLANE_RIG_PASSWORD": PASSWORD}
        assert isinstance(cli.ok("rig", "streams", "list", "tv", "--json", env=env).json(), list)
        first = saved_login_of(cli)
        assert first.username == "alice"

        path = tokens_file(cli)
        bogus = {url: {"username": "alice", "token": "a.b.c"} for url in json.loads(path.read_text())}
        path.write_text(json.dumps(bogus))
        cli.fails("rig", "streams", "list", "tv", message="the saved rig token was refused")
        cli.ok("rig", "streams", "list", "tv", env=env)
        assert saved_login_of(cli).token not in ("a.b.c", "")

    def test_a_taken_username_is_refused_with_a_hint(self, rig: Rig) -> None:
        args = ["rig", "signup", "tv", "-u", "alice", "-e", "other@example.com", "--password", PASSWORD]
        rig.home("taken").fails(*args, message="Cannot create user account. (is the username alice")

    def test_a_short_password_is_refused_with_the_field(self, rig: Rig) -> None:
        args = ["rig", "signup", "tv", "-u", "shorty", "-e", "s@example.com", "--password", "short"]
        rig.home("short").fails(*args, message="Invalid input: password: less than min (HTTP 400)")

    def test_password_change_then_logout(self, rig: Rig) -> None:
        carol = rig.home("carol")
        carol.ok("rig", "signup", "tv", "-u", "carol", "-e", "carol@example.com", "--password", PASSWORD)
        new = "Ar3YouComingToTheTree"
        changed = carol.ok("rig", "password", "tv", "--old-password", PASSWORD, "--new-password", new, "--json")
        assert changed.json() == {"username": "carol"}
        carol.fails("rig", "login", "tv", "-u", "carol", "--password", PASSWORD, message="wrong username or password")
        carol.ok("rig", "login", "tv", "-u", "carol", "--password", new)
        assert carol.ok("rig", "logout", "tv", "--json").json() == {"name": "tv", "loggedOut": True}
        carol.fails("rig", "streams", "list", "tv", message="Not logged in")


def saved_login_of(cli: Cli) -> SavedLogin:
    (saved,) = load_logins(tokens_file(cli)).values()
    return saved


class TestStreams:
    def test_create_shows_what_obs_needs(self, rig: Rig) -> None:
        result = rig.cli.ok("rig", "streams", "create", "tv")
        stream_id = result.stderr.split("Created stream ", 1)[1].split(";")[0]
        shown = status_of(rig.cli, stream_id)
        server, key = shown["ingestUrl"].rsplit("/", 1)
        assert key == shown["streamKey"] and server.startswith("rtmp://") and server.endswith("/rig")
        assert server in result.stdout and key in result.stdout and "OBS" in result.stdout

    def test_create_json_is_the_payload(self, rig: Rig) -> None:
        stream = create_stream(rig.cli)
        assert stream["destinations"] is None and stream["provisionStatus"] is None
        assert (stream["isStreaming"], stream["isActive"]) == (False, True)
        assert len(stream["streamKey"]) == 22

    def test_list_masks_the_keys_unless_asked(self, rig: Rig) -> None:
        stream = create_stream(rig.cli)
        listed = rig.cli.ok("rig", "streams", "list", "tv", "--json").json()
        assert stream["id"] in [s["id"] for s in listed]
        table = rig.cli.ok("rig", "streams", "list", "tv").stdout
        assert stream["id"] in table and stream["streamKey"] not in table and stream["streamKey"][:4] + "…" in table
        assert stream["streamKey"] in rig.cli.ok("rig", "streams", "list", "tv", "--show-keys").stdout

    def test_show(self, rig: Rig) -> None:
        stream = create_stream(rig.cli)
        shown = rig.cli.ok("rig", "streams", "show", "tv", stream["id"]).stdout
        assert stream["id"] in shown and stream["streamKey"] in shown and "OBS" in shown
        detail = rig.cli.ok("rig", "streams", "show", "tv", stream["id"], "--json").json()
        assert detail["ingestUrl"].endswith("/rig/" + stream["streamKey"]) and detail["liveSince"] is None

    def test_rotate_key(self, rig: Rig) -> None:
        stream = create_stream(rig.cli)
        result = rig.cli.ok("rig", "streams", "rotate-key", "tv", stream["id"])
        new_key = status_of(rig.cli, stream["id"])["streamKey"]
        assert new_key != stream["streamKey"] and new_key in result.stdout
        assert "the old key no longer works" in result.stderr
        rotated = rig.cli.ok("rig", "streams", "rotate-key", "tv", stream["id"], "--json").json()
        assert rotated["streamID"] == stream["id"] and rotated["key"] not in (new_key, stream["streamKey"])

    def test_disable_and_enable(self, rig: Rig) -> None:
        stream = create_stream(rig.cli)
        disabled = rig.cli.ok("rig", "streams", "disable", "tv", stream["id"], "--json")
        assert disabled.json()["isActive"] is False and "publishing to its key is refused" in disabled.stderr
        assert "disabled" in rig.cli.ok("rig", "streams", "list", "tv").stdout
        assert rig.cli.ok("rig", "streams", "enable", "tv", stream["id"], "--json").json()["isActive"] is True

    def test_delete_asks_first(self, rig: Rig) -> None:
        stream = create_stream(rig.cli)
        rig.cli.fails("rig", "streams", "delete", "tv", stream["id"], message="pass -y/--yes")
        assert rig.cli.ok("rig", "streams", "delete", "tv", stream["id"], "--yes", "--json").json() is None
        rig.cli.fails("rig", "streams", "show", "tv", stream["id"], message=f"No stream {stream['id']} in this account")


class TestDestinations:
    def test_add_list_disable_enable_remove(self, rig: Rig) -> None:
        stream_id = create_stream(rig.cli)["id"]
        add = ["rig", "destinations", "add", "tv", stream_id]
        youtube = rig.cli.ok(*add, "--service", "YouTube", "--key", YOUTUBE_KEY, "--json").json()
        assert youtube["rtmpUrl"] == f"rtmp://a.rtmp.youtube.com/live2/{YOUTUBE_KEY}" and youtube["isActive"]
        twitch = rig.cli.ok(*add, "-s", "twitch", "-k", TWITCH_KEY, "--json").json()  # any case on the command line
        assert (twitch["service"], twitch["rtmpUrl"]) == ("Twitch", f"rtmp://live.twitch.tv/app/{TWITCH_KEY}")
        custom = rig.cli.ok(*add, "-s", "Custom", "--rtmp-url", "rtmps://live.example.com:443/app", "-k", "custom99")
        assert "Added Custom destination" in custom.stderr and "custom99" not in custom.stdout
        in_url = rig.cli.ok(*add, "-s", "Custom", "--rtmp-url", "rtmp://127.0.0.1:9/app/inurl77", "--json").json()
        assert (in_url["rtmpUrl"], in_url["streamKey"]) == ("rtmp://127.0.0.1:9/app/inurl77", "")

        table = rig.cli.ok("rig", "destinations", "list", "tv", stream_id).stdout
        for secret in (YOUTUBE_KEY, TWITCH_KEY, "custom99", "inurl77"):
            assert secret not in table and secret[:4] + "…" in table
        assert YOUTUBE_KEY in rig.cli.ok("rig", "destinations", "list", "tv", stream_id, "--show-keys").stdout

        one = str(youtube["id"])
        disabled = rig.cli.ok("rig", "destinations", "disable", "tv", stream_id, one, "--json").json()
        assert disabled["isActive"] is False
        assert "disabled" in rig.cli.ok("rig", "status", "tv", stream_id).stdout
        assert rig.cli.ok("rig", "destinations", "enable", "tv", stream_id, one, "--json").json()["isActive"]
        assert rig.cli.ok("rig", "destinations", "remove", "tv", stream_id, one, "--json").json() is None
        listed = rig.cli.ok("rig", "destinations", "list", "tv", stream_id, "--json").json()
        assert sorted(d["service"] for d in listed) == ["Custom", "Custom", "Twitch"]
        assert {twitch["id"], in_url["id"]} < {d["id"] for d in listed}
        rig.cli.fails("rig", "destinations", "remove", "tv", stream_id, one, message=f"or destination {one}")

    def test_a_bad_url_is_refused_by_the_instance_with_the_field(self, rig: Rig) -> None:
        stream_id = create_stream(rig.cli)["id"]
        args = ["rig", "destinations", "add", "tv", stream_id, "-s", "Custom", "--rtmp-url", "http://x/app", "-k", "k"]
        rig.cli.fails(*args, message="Invalid input: rtmpUrl: not an rtmp:// or rtmps:// URL (HTTP 400)")


class TestStatus:
    def test_json_of_one_stream_and_of_all(self, rig: Rig) -> None:
        stream_id = create_stream(rig.cli)["id"]
        rig.cli.ok("rig", "destinations", "add", "tv", stream_id, "-s", "YouTube", "-k", YOUTUBE_KEY)
        one = status_of(rig.cli, stream_id)
        assert (one["id"], one["isStreaming"], one["liveSince"]) == (stream_id, False, None)
        (destination,) = one["destinations"]
        assert destination["status"] == "idle" and destination["reconnects"] == 0
        every = rig.cli.ok("rig", "status", "tv", "--json").json()
        assert stream_id in [s["id"] for s in every] and all("destinations" in s for s in every)

    def test_table(self, rig: Rig) -> None:
        stream_id = create_stream(rig.cli)["id"]
        rig.cli.ok("rig", "destinations", "add", "tv", stream_id, "-s", "Twitch", "-k", TWITCH_KEY)
        table = rig.cli.ok("rig", "status", "tv", stream_id).stdout
        assert stream_id in table and "offline" in table and "Twitch" in table and "idle" in table


class TestErrors:
    def test_an_unknown_stream(self, rig: Rig) -> None:
        message = f"No stream {NO_STREAM} in this account (Unable to fetch resource) (HTTP 400)"
        rig.cli.fails("rig", "streams", "show", "tv", NO_STREAM, message=message)
        refused = rig.cli.fails("rig", "status", "tv", "not-a-uuid", "--json", message="No stream not-a-uuid")
        assert refused.json()["status"] == 400

    def test_a_stream_of_another_account(self, rig: Rig) -> None:
        stream_id = create_stream(rig.cli)["id"]
        dave = rig.home("dave")
        dave.ok("rig", "signup", "tv", "-u", "dave", "-e", "dave@example.com", "--password", PASSWORD)
        dave.fails("rig", "streams", "show", "tv", stream_id, message=f"Stream {stream_id} belongs to another account")

    def test_an_unknown_instance(self, rig: Rig) -> None:
        rig.cli.fails("rig", "streams", "list", "nope", message="No instance named nope (HTTP 404)")

    def test_destination_options_are_checked_first(self, rig: Rig) -> None:
        add = ["rig", "destinations", "add", "tv", NO_STREAM]
        rig.cli.fails(*add, "-s", "Custom", "-k", "k", message="--service Custom needs --rtmp-url")
        rig.cli.fails(*add, "-s", "YouTube", "-k", "k", "--rtmp-url", "rtmp://x/a", message="only for --service Custom")
        rig.cli.fails(*add, "-s", "YouTube", message="--service YouTube needs --key")
        rig.cli.fails(*add, "-s", "Dailymotion", "-k", "k", code=2, message="Invalid value")


# -- live ------------------------------------------------------------------------------------------


def run_until_interrupted(cli: Cli, args: list[str], until: str, out: Path) -> tuple[int, str]:
    """Starts the command, waits for `until` in its output, then presses Ctrl-C (SIGINT)."""
    with out.open("w") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "mediaplane", *args],
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**cli.env, "TTY_COMPATIBLE": "1"},  # rich draws as on a terminal
            cwd=cli.cwd,
        )
        try:
            wait_for(lambda: until in out.read_text() or proc.poll() is not None, timeout=30)
            proc.send_signal(signal.SIGINT)
            code = proc.wait(30)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return code, out.read_text()


def test_a_published_stream_is_reported_live_until_it_stops(tmp_path: Path) -> None:
    server, cli = start_server(tmp_path, MEDIAPLANE_RTMP_ENABLED="true", MEDIAPLANE_RTMP_PORT=str(free_port()))
    try:
        cli.ok("create", "rig", "tv")
        env = {"MEDIAPLANE_RIG_USERNAME": "erin", "MEDIAPLANE_RIG_PASSWORD": PASSWORD}
        cli.ok("rig", "signup", "tv", "-e", "erin@example.com", env=env)
        stream = create_stream(cli)
        detail = status_of(cli, stream["id"])
        cli.ok("rig", "destinations", "add", "tv", stream["id"], "-s", "Custom", "--rtmp-url", "rtmp://127.0.0.1:9/x")

        def live() -> bool:
            return bool(status_of(cli, stream["id"])["isStreaming"])

        with publishing(detail["ingestUrl"]):
            wait_for(live, timeout=30)
            shown = status_of(cli, stream["id"])
            assert shown["liveSince"] is not None and shown["provisionStatus"]["streamUrl"] == detail["ingestUrl"]
            args = ["rig", "status", "tv", stream["id"], "--watch"]
            code, output = run_until_interrupted(cli, args, "Ctrl-C stops", tmp_path / "watch.out")
            assert code == 0 and "Traceback" not in output, output
            assert stream["id"] in output and "live" in output
            code, output = run_until_interrupted(cli, [*args, "--json"], "\n", tmp_path / "watch.json")
            assert code == 0, output
            assert json.loads(output.splitlines()[0])["isStreaming"] is True
        wait_for(lambda: not live(), timeout=30)
        assert status_of(cli, stream["id"])["liveSince"] is None
    finally:
        server.stop()
    assert "Traceback" not in server.output, server.output


# -- without a server ------------------------------------------------------------------------------


class TestMasking:
    @pytest.mark.parametrize(("key", "masked"), [(YOUTUBE_KEY, "sima…"), ("abcd", "…"), ("", ""), (None, None)])
    def test_mask_key(self, key: str | None, masked: str | None) -> None:
        assert mask_key(key) == masked

    def test_mask_url(self) -> None:
        assert mask_url(f"rtmp://a.rtmp.youtube.com/live2/{YOUTUBE_KEY}", YOUTUBE_KEY).endswith("/live2/sima…")
        assert mask_url("rtmps://h:443/app/inurl77", "") == "rtmps://h:443/app/inur…"
        assert mask_url("rtmp://h", "") == "rtmp://h"

    def test_obs_server_is_the_ingest_url_without_the_key(self) -> None:
        assert obs_server("rtmp://127.0.0.1:1935/rig/k3y", "k3y") == "rtmp://127.0.0.1:1935/rig"
        assert obs_server("rtmp://127.0.0.1:1935/rig/k3y", "other") == "rtmp://127.0.0.1:1935/rig/k3y"

    def test_status_rows_name_a_stream_once(self) -> None:
        destinations = [{"id": 1, "service": "YouTube", "status": "live"}, {"id": 2, "service": "Twitch"}]
        rows = list(status_rows([{"id": "s1", "isStreaming": True, "destinations": destinations}, {"id": "s2"}]))
        assert [str(row[0]) for row in rows] == ["s1", "", "s2"]
        assert [str(row[3]) for row in rows[:2]] == ["#1 YouTube", "#2 Twitch"]
        assert rows[2][3] is None


class TestDestinationBody:
    def test_named_services_take_a_key(self) -> None:
        assert destination_body(Service.YOUTUBE, "k", None) == {"service": "YouTube", "streamKey": "k"}

    def test_custom_takes_a_url_and_maybe_a_key(self) -> None:
        body = destination_body(Service.CUSTOM, None, "rtmp://h/app/k")
        assert body == {"service": "Custom", "rtmpUrl": "rtmp://h/app/k", "streamKey": ""}

    @pytest.mark.parametrize(
        ("service", "key", "url", "message"),
        [
            (Service.CUSTOM, "k", None, "needs --rtmp-url"),
            (Service.TWITCH, "k", "rtmp://h/a", "only for --service Custom"),
            (Service.TWITCH, None, None, "needs --key"),
        ],
    )
    def test_mistakes(self, service: Service, key: str | None, url: str | None, message: str) -> None:
        with pytest.raises(CliError, match=message):
            destination_body(service, key, url)


class TestTokenStore:
    def test_saved_per_instance_with_mode_0600(self, tmp_path: Path) -> None:
        path = tmp_path / "conf" / "rig-tokens.json"
        save_login("http://h/rig/acme-a", SavedLogin("alice", "t1"), path)
        save_login("http://h/rig/acme-b/", SavedLogin("bob", "t2"), path)
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert saved_login("http://h/rig/acme-a/", path) == SavedLogin("alice", "t1")
        save_login("http://h/rig/acme-a/", None, path)
        assert list(load_logins(path)) == ["http://h/rig/acme-b/"]

    def test_a_broken_file_is_a_clear_error(self, tmp_path: Path) -> None:
        path = tmp_path / "rig-tokens.json"
        path.write_text("{not json")
        with pytest.raises(CliError, match="not valid JSON"):
            load_logins(path)


def envelope(status: int, message: str, code: int, details: Any = None) -> httpx.Response:
    return httpx.Response(status, json={"message": message, "errorCode": code, "details": details})


class TestRigApi:
    def test_a_refused_token_is_replaced_once_by_logging_in(self) -> None:
        seen: list[str | None] = []
        saved: list[tuple[str, str]] = []

        def answer(request: httpx.Request) -> httpx.Response:
            if request.url.path.endswith("/accounts/auth/local"):
                assert request.headers["content-type"] == "application/json"
                return httpx.Response(200, json={"message": "ok", "payload": {"username": "u", "token": "new"}})
            seen.append(request.headers.get("authorization"))
            if request.headers.get("authorization") != "Bearer new":
                return envelope(401, "Invalid credentials", 1003)
            return httpx.Response(200, json={"message": "Stream list for user", "payload": []})

        api = RigApi(
            "http://rig.test/rig/acme-tv",
            token="old",
            credentials=Credentials("u", "p"),
            on_login=lambda user, token: saved.append((user, token)),
            transport=httpx.MockTransport(answer),
        )
        with api:
            assert api.streams().payload == []
            assert api.streams().payload == []
        assert seen == ["Bearer old", "Bearer new", "Bearer new"] and saved == [("u", "new")]

    def test_without_credentials_a_refused_token_says_how_to_log_in(self) -> None:
        transport = httpx.MockTransport(lambda request: envelope(401, "Invalid credentials", 1003))
        with (
            RigApi("http://rig.test/", token="old", login_hint="log in again", transport=transport) as api,
            pytest.raises(RigApiError, match="the saved rig token was refused; log in again"),
        ):
            api.streams()

    def test_errors_carry_the_message_and_details(self) -> None:
        transport = httpx.MockTransport(
            lambda request: envelope(400, "Missing required input", 1004, {"password": ["zero value"]})
        )
        with RigApi("http://rig.test/", transport=transport) as api, pytest.raises(RigApiError) as caught:
            api.login("u", "")
        assert str(caught.value) == "Missing required input: password: zero value (HTTP 400)"
        assert (caught.value.error_code, caught.value.details) == (1004, {"password": ["zero value"]})

    def test_format_details(self) -> None:
        assert format_details({"a": ["x", "y"], "b": "z"}) == "a: x, y; b: z"
        assert format_details(["x"]) == '["x"]'

    def test_env_credentials_need_both(self) -> None:
        assert env_credentials({"MEDIAPLANE_RIG_USERNAME": "u"}) is None
        both = {"MEDIAPLANE_RIG_USERNAME": "u", "MEDIAPLANE_RIG_PASSWORD": "p"}
        assert env_credentials(both) == Credentials("u", "p")
