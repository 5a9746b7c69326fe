"""Global options, where output goes, and how errors are reported (no server involved)."""

from __future__ import annotations

import socket

from mediaplane.cli.main import hoist_global_options
from mediaplane.cli.profile import SavedConfig
from mediaplane.cli.state import DEFAULT_URL, NO_TOKEN, resolve_connection
from tests.cli.processes import Cli


class TestHoistGlobalOptions:
    def test_options_after_the_command_move_to_the_front(self) -> None:
        args = ["list", "encore", "--json", "--url", "http://h:1", "--token=t"]
        assert hoist_global_options(args) == ["--json", "--url", "http://h:1", "--token=t", "list", "encore"]

    def test_nothing_after_a_double_dash_moves(self) -> None:
        assert hoist_global_options(["create", "--", "--json"]) == ["create", "--", "--json"]

    def test_option_values_that_look_like_flags_stay(self) -> None:
        assert hoist_global_options(["create", "s", "n", "-o", "motto=--json"]) == [
            "create",
            "s",
            "n",
            "-o",
            "motto=--json",
        ]


class TestResolveConnection:
    saved = SavedConfig(url="http://saved:1", token="saved-token")

    def test_flags_win(self) -> None:
        env = {"MEDIAPLANE_URL": "http://env:1", "MEDIAPLANE_ACCESS_TOKEN": "env-token"}
        c = resolve_connection("http://flag:1", "flag-token", env, self.saved)
        assert (c.url, c.url_source, c.token, c.token_source) == ("http://flag:1", "flag", "flag-token", "flag")

    def test_env_beats_the_saved_config(self) -> None:
        env = {"MEDIAPLANE_URL": "http://env:1/", "MEDIAPLANE_ACCESS_TOKEN": "env-token"}
        c = resolve_connection(None, None, env, self.saved)
        assert (c.url, c.token, c.token_source) == ("http://env:1", "env-token", "env MEDIAPLANE_ACCESS_TOKEN")

    def test_osc_access_token_is_accepted_after_ours(self) -> None:
        assert resolve_connection(None, None, {"OSC_ACCESS_TOKEN": "osc"}, SavedConfig()).token == "osc"
        both = {"OSC_ACCESS_TOKEN": "osc", "MEDIAPLANE_ACCESS_TOKEN": "ours"}
        assert resolve_connection(None, None, both, SavedConfig()).token == "ours"

    def test_saved_config_then_default(self) -> None:
        c = resolve_connection(None, None, {}, self.saved)
        assert (c.url, c.url_source, c.token) == ("http://saved:1", "config", "saved-token")
        c = resolve_connection(None, None, {"MEDIAPLANE_URL": ""}, SavedConfig())
        assert (c.url, c.url_configured, c.token) == (DEFAULT_URL, False, None)

    def test_a_url_without_scheme_gets_http(self) -> None:
        assert resolve_connection("localhost:9000", None, {}, SavedConfig()).url == "http://localhost:9000"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TestErrors:
    def test_json_errors_are_json_on_stdout(self, cli: Cli) -> None:
        result = cli.fails("service-access-token", "notes", "--json", message="No access token")
        assert result.json() == {"error": NO_TOKEN}

    def test_unreachable_server(self, cli: Cli) -> None:
        url = f"http://127.0.0.1:{closed_port()}"
        cli.fails("--url", url, "catalog", message=f"Cannot reach mediaplane at {url}")

    def test_usage_errors_with_json(self, cli: Cli) -> None:
        result = cli.fails("create", "--json", message="Missing argument", code=2)
        assert result.json()["error"].startswith("Missing argument")

    def test_version(self, cli: Cli) -> None:
        from mediaplane import __version__

        assert cli.ok("--json", "version").json() == {"version": __version__}


LOADED = """
import sys
from mediaplane.cli.main import main
sys.argv = ["mediaplane", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
services = sorted({m.split(".")[2] for m in sys.modules if m.startswith("mediaplane.services.")})
print(" ".join(services), "fastapi" in sys.modules, "sqlalchemy" in sys.modules, file=sys.stderr)
"""


class TestServiceCommandsLoad:
    """A service's commands load only its own plugin, and no server-side library: every CLI call pays its imports."""

    def loaded(self, *args: str) -> str:
        import subprocess
        import sys

        done = subprocess.run([sys.executable, "-c", LOADED, *args], capture_output=True, text=True, timeout=60)
        return done.stderr.strip().splitlines()[-1]

    def test_a_service_group_loads_only_its_service(self) -> None:
        assert self.loaded("eyeson", "--help") == "eyeson False False"

    def test_other_names_load_every_service(self) -> None:
        assert self.loaded("--help").startswith("encore eyeson gosd rig")
