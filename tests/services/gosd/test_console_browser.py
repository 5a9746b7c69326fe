"""gosd's dashboard in a real headless Chromium against a live server with its embedded MQTT broker and job
workers: sign in, see a node come online (with its status) when the real node agent connects, create a plan
(a Lua error first: Lua's message beside the field), run it and watch the job reach succeeded and its log
appear without a reload, then run a long plan and cancel its job after the confirmation. The node has a
livestream_hls point and its agent publishes a test pattern to the RTMP ingest: the node page's player plays it
(through the dashboard's own HLS routes). A node made and deleted through the API comes and goes from the board
without a reload. Screenshots of every page go to the `screenshots` fixture's folder.

The browser is the system's Chromium (Debian's `chromium`), driven by Playwright; none is downloaded.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mediaplane.app import create_app
from mediaplane.core.catalog import Registry
from mediaplane.core.ingest.nginx import NginxNotFound, find_nginx
from mediaplane.services.gosd import spec as gosd_spec
from tests.conftest import make_settings
from tests.fixtures.browser import NO_SIDEWAYS_SCROLL, Screenshots, chromium, create_instance, seed_tenants, sign_in_at
from tests.fixtures.required import require_or_skip
from tests.fixtures.servers import free_port, serve_in_thread
from tests.services.gosd.agent.live import CLIENT_ID, CLIENT_SECRET, LiveGosd, start_agent, stop_agent
from tests.services.gosd.conftest import OPTIONS
from tests.services.rig.test_console_browser import text

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
PASSWORD = "correct horse battery"
WAIT_MS = 30_000
FLIGHT = """function main(plan)
  local drone = NewNode(plan.nodeID)
  print("taking off")
  drone:SyncCall("takeoff", {alt = 10})
  drone:SyncCall("land")
  print("landed")
end
"""
LONG = 'function main(plan)\n  print("waiting")\n  sleep("60s")\nend\n'
CAM = {"name": "cam", "type": "livestream_hls"}
# The player has decoded frames and its clock moves on from where it was (`since`).
PLAYING = """(since) => { const v = document.querySelector('[data-point] video');
  return v.readyState >= 2 && v.currentTime > since + 0.5 && !v.paused; }"""


@contextlib.contextmanager
def live_server(tmp_path: Path) -> Iterator[tuple[str, LiveGosd]]:
    """`serve` with gosd, its embedded broker, job workers and RTMP ingest; tenant acme (console password) with
    fleet `fleet`."""
    settings = make_settings(
        tmp_path / "data",
        f"sqlite+aiosqlite:///{tmp_path / 'gosd.db'}",
        port=free_port(),
        mqtt_enabled=True,
        mqtt_port=free_port(),
        workers=2,
        run_workers=True,
        rtmp_enabled=True,
        rtmp_port=free_port(),
        rtmp_heartbeat_seconds=1,
        ingest_node="node-a",
    )
    try:
        find_nginx(settings.nginx_path, settings.nginx_modules_dir)
    except NginxNotFound as exc:
        require_or_skip("nginx with the RTMP module", exc)
    registry = Registry([gosd_spec])

    pat = seed_tenants(settings, registry, PASSWORD)["acme"]
    with serve_in_thread(create_app(settings, registry=registry), settings.port) as url:
        create_instance(url, pat, "gosd", {"name": "fleet", **OPTIONS})
        base = f"{url}/gosd/acme-fleet/gosd"
        grant = {"grant_type": "password", "username": OPTIONS["username"], "password": OPTIONS["password"]}
        token = httpx.post(
            f"{base}/oauth/token", json={**grant, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        )
        assert token.status_code == 200, token.text
        yield url, LiveGosd(base, "", token.json()["access_token"])


def test_the_gosd_dashboard_in_chromium(tmp_path: Path, screenshots: Path) -> None:
    shots = screenshots
    problems: list[str] = []
    with live_server(tmp_path) as (url, gosd), chromium() as browser:
        node_id, secret = gosd.node("air", [CAM])
        page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
        played: list[str] = []  # video the page got (200s)
        page.on("response", lambda r: played.append(r.url) if "/video/" in r.url and r.ok else None)

        shot = Screenshots(page, shots)

        board = f"{url}/console/gosd/fleet/"
        sign_in_at(page, board, PASSWORD)
        presence = f"[data-node='{node_id}'] [data-field=presence]"
        assert text(page, presence) == "offline" and "No plans yet" in text(page, "main")
        shot("offline")

        # Online without a reload when the real agent connects, with its status.
        page.evaluate("() => { window.stayed = true; }")
        agent = start_agent(gosd, node_id, secret, "--video", "lavfi")  # the last --video wins
        try:
            page.wait_for_function(f'() => document.querySelector("{presence}").textContent === "online"')
            status = f"[data-node='{node_id}'] [data-field=telemetry]"
            page.wait_for_function(f'() => document.querySelector("{status}").textContent.includes("lat")')
            assert page.evaluate("() => window.stayed") is True
            shot("online")
            page.get_by_role("link", name="N-air").click()
            page.wait_for_function(
                "() => document.querySelector('[data-field=telemetry-list]').textContent.includes('lat')"
            )
            assert text(page, "h1 [data-field=presence]") == "online"
            # The agent's test pattern plays in the page, through the dashboard's HLS routes.
            page.wait_for_function(
                "() => document.querySelector('[data-point] [data-field=live]').textContent === 'live'"
            )
            page.wait_for_function(PLAYING, arg=0)
            since = page.evaluate("() => document.querySelector('[data-point] video').currentTime")
            page.wait_for_function(PLAYING, arg=since)
            assert text(page, "[data-point] [data-field=video]") == "Playing the live video."
            video = f"{board}points/"
            assert any(u.startswith(video) and u.endswith("/index.m3u8") for u in played), played
            assert any(u.startswith(video) and u.endswith(".ts") for u in played), played
            shot("node")

            # A plan: Lua's compile error first, beside the field, then the good script.
            page.goto(board)
            page.get_by_label("Name", exact=True).fill("flight")
            page.get_by_label("Lua script").fill("function main(plan")
            page.get_by_role("button", name="Create plan").click()
            assert text(page, "#plan-lua-error").startswith("The script does not compile: plan.lua:1:")
            shot("plan-refused")
            page.get_by_label("Lua script").fill(FLIGHT)
            page.get_by_role("button", name="Create plan").click()
            page.wait_for_url("**/plans/*?done=plan")
            assert 'print("taking off")' in text(page, "pre")
            shot("plan")

            # Run it: the job reaches succeeded and its log shows, live.
            page.get_by_role("button", name="Run on N-air").click()
            page.wait_for_url("**/jobs/1?done=run")
            page.evaluate("() => { window.stayed = true; }")
            page.wait_for_function("() => document.querySelector('h1 [data-field=state]').textContent === 'succeeded'")
            page.wait_for_function("() => document.querySelector('[data-field=log]').textContent.includes('landed')")
            assert page.evaluate("() => window.stayed") is True
            assert "taking off" in text(page, "[data-field=log]")
            assert page.locator("[data-field=cancel]").is_hidden()
            shot("job-succeeded")

            # Another plan that waits; its running job cancelled after the confirmation.
            page.goto(board)
            page.get_by_label("Name", exact=True).fill("wait")
            page.get_by_label("Lua script").fill(LONG)
            page.get_by_role("button", name="Create plan").click()
            page.wait_for_url("**/plans/*?done=plan")
            page.get_by_role("button", name="Run on N-air").click()
            page.wait_for_url("**/jobs/1?done=run")
            page.wait_for_function("() => document.querySelector('h1 [data-field=state]').textContent === 'running'")
            page.get_by_role("link", name="Cancel this job…").click()
            assert "Its script is stopped" in text(page, "main")
            shot("cancel-confirm")
            page.get_by_role("button", name="Cancel the job").click()
            page.wait_for_url("**/jobs/1?done=cancelled")
            page.wait_for_function("() => document.querySelector('h1 [data-field=state]').textContent === 'cancelled'")
            page.wait_for_function("() => document.querySelector('[data-field=log]').textContent.includes('waiting')")
            shot("job-cancelled")

            page.goto(board)
            states = page.locator("[data-job] [data-field=state]").all_text_contents()
            assert states == ["cancelled", "succeeded"], states
            shot("board")
            page.set_viewport_size({"width": 375, "height": 740})
            page.reload()
            assert page.evaluate(NO_SIDEWAYS_SCROLL)
            shot("phone-board")
        finally:
            stop_agent(agent)
        page.set_viewport_size({"width": 1100, "height": 900})
        page.goto(board)
        page.wait_for_function(f'() => document.querySelector("{presence}").textContent === "offline"')

        # A node added from the board: its secret shown once on the next page.
        page.get_by_label("Node name").fill("Depot 2")
        page.locator("#node-type").fill("depot")
        page.get_by_role("button", name="Add node").click()
        assert "Node “Depot 2” added" in text(page, "h1")
        shot("node-added")
        page.goto(board)

        # A node made through the API joins the board without a reload, and leaves it when deleted there.
        made, _secret = gosd.node("depot")
        page.wait_for_selector(f"[data-node='{made}']")
        gosd.call("DELETE", f"/api/v1/nodes/{made}")
        page.wait_for_selector(f"[data-node='{made}']", state="detached")
        assert problems == []
