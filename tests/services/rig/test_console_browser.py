"""rig's dashboard in a real headless Chromium against a live server with the RTMP ingest on: sign in, create a
rig account and a stream, publish to its ingest with FFmpeg and see the stream go live and the preview play
without a reload, add a destination (a bad URL first: rig's message beside the field) and see its relay go live
with a bitrate, remove it, rotate the key; a stream made and deleted in another tab comes and goes from the
list without a reload. Screenshots of every page go to the `screenshots` fixture's folder.

The browser is the system's Chromium (Debian's `chromium`), driven by Playwright; none is downloaded.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from mediaplane.app import create_app
from mediaplane.core.catalog import Registry
from mediaplane.kit.ffmpeg import find_ffmpeg
from mediaplane.services.rig import spec as rig_spec
from tests.fixtures.browser import NO_SIDEWAYS_SCROLL, Screenshots, chromium, create_instance, seed_tenants, sign_in_at
from tests.fixtures.live import publishing
from tests.fixtures.servers import free_port, serve_in_thread
from tests.services.rig.live_server import rig_settings

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]
PASSWORD = "correct horse battery"
RIG_PASSWORD = "Hop0nTh4tM4ng0Tree"
WAIT_MS = 30_000
PLAYING = "() => { const v = document.querySelector('video'); return v.currentTime > 1 && !v.paused; }"


@contextlib.contextmanager
def live_server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """`serve` with rig and its RTMP ingest on free ports; tenant acme (console password) with instance `tv`."""
    port, rtmp_port = free_port(), free_port()
    settings = rig_settings(tmp_path, port, rtmp_port)
    registry = Registry([rig_spec])

    pat = seed_tenants(settings, registry, PASSWORD)["acme"]
    with serve_in_thread(create_app(settings, registry=registry), port) as url:
        create_instance(url, pat, "rig", {"name": "tv"})
        yield url, rtmp_port


@contextlib.contextmanager
def rtmp_receiver(port: int) -> Iterator[str]:
    """A destination that takes the relay: FFmpeg listening for one RTMP publish, discarding what it gets."""
    url = f"rtmp://127.0.0.1:{port}/live/dest"
    argv = [
        find_ffmpeg(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-nostdin",
        "-listen",
        "1",
        "-i",
        url,
        "-f",
        "null",
        "-",
    ]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield url
    finally:
        proc.kill()
        proc.wait()


def text(page: Page, selector: str) -> str:
    return (page.locator(selector).first.text_content() or "").strip()


def test_the_rig_dashboard_in_chromium(tmp_path: Path, screenshots: Path) -> None:
    shots = screenshots
    problems: list[str] = []
    with live_server(tmp_path) as (url, rtmp_port), chromium() as browser:
        context = browser.new_context(viewport={"width": 1100, "height": 900})
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        page.on("pageerror", lambda error: problems.append(f"script error: {error}"))

        shot = Screenshots(page, shots)

        board = f"{url}/console/rig/tv/"
        sign_in_at(page, board, PASSWORD)
        assert "First create a rig account" in text(page, "main")
        shot("empty")

        page.locator("#account-username").fill("alice")
        page.locator("#account-email").fill("alice@example.com")
        page.locator("#account-password").fill(RIG_PASSWORD)
        page.get_by_role("button", name="Create account").click()
        page.wait_for_url(f"{board}?done=account")
        page.get_by_role("button", name="Create stream").click()
        page.wait_for_url("**/streams/*?done=created")
        assert text(page, "h1 [data-field=state]") == "offline"
        ingest = text(page, "#ingest-url")
        assert ingest.startswith(f"rtmp://127.0.0.1:{rtmp_port}/rig/")
        assert text(page, "#ingest-server") + "/" + text(page, "#stream-key") == ingest
        page.get_by_role("button", name="Copy key").click()
        assert page.evaluate("() => navigator.clipboard.readText()") == text(page, "#stream-key")
        shot("stream")

        # Live without a reload: the page's own window object stays the same throughout.
        page.evaluate("() => { window.stayed = true; }")
        with publishing(ingest):
            page.wait_for_function("() => document.querySelector('h1 [data-field=state]').textContent === 'live'")
            page.wait_for_function(PLAYING, timeout=60_000)
            assert page.evaluate("() => window.stayed") is True
            size = page.evaluate(
                "() => [document.querySelector('video').videoWidth, document.querySelector('video').videoHeight]"
            )
            assert size == [320, 240]
            shot("live")

            # A bad destination first: rig's message beside the field, the value kept.
            page.get_by_label("Service").select_option("Custom")
            page.locator("#destination-url").fill("http://not-rtmp.example/app")
            page.get_by_role("button", name="Add destination").click()
            assert text(page, "#destination-url-error") == "not an rtmp:// or rtmps:// URL"
            assert page.locator("#destination-url").input_value() == "http://not-rtmp.example/app"
            shot("destination-refused")
            with rtmp_receiver(free_port()) as receiver:
                page.locator("#destination-url").fill(receiver)
                page.get_by_role("button", name="Add destination").click()
                page.wait_for_url("**?done=added")
                row = "[data-destination-id]"
                page.wait_for_function(
                    f"() => document.querySelector('{row} [data-field=status]').textContent === 'live'"
                    f" && parseFloat(document.querySelector('{row} [data-field=bitrate]').textContent) > 0",
                    timeout=60_000,
                )
                shot("destination-live")
                page.get_by_role("button", name="Remove").click()
                page.wait_for_url("**?done=removed")
                assert page.locator(row).count() == 0 and "No destinations yet" in text(page, "main")

            old_key = text(page, "#stream-key")
            page.get_by_role("link", name="Rotate the stream key…").click()
            assert "the live session ends now" in text(page, "main")
            shot("rotate-confirm")
            page.get_by_role("button", name="Rotate key").click()
            page.wait_for_url("**?done=rotated")
            assert text(page, "#stream-key") != old_key
            page.wait_for_function("() => document.querySelector('h1 [data-field=state]').textContent === 'offline'")
            shot("rotated")

        stream_page = page.url
        page.goto(board)
        assert text(page, "[data-stream-id] [data-field=state]") == "offline"
        shot("streams")
        page.locator("a[href$='/password']").first.click()
        assert "alice" in text(page, "h1")
        shot("account-password")
        page.goto(board)

        # A stream made in another tab joins this list without a reload, and leaves it when deleted there.
        other = context.new_page()
        other.goto(board)
        other.get_by_role("button", name="Create stream").click()
        other.wait_for_url("**/streams/*?done=created")
        made = other.url.split("/streams/")[1].split("?")[0]
        page.wait_for_selector(f"tr[data-stream-id='{made}']")
        other.get_by_role("link", name="Delete this stream…").click()
        other.get_by_role("button", name="Delete stream").click()
        other.wait_for_url("**?done=deleted")
        page.wait_for_selector(f"tr[data-stream-id='{made}']", state="detached")
        other.close()

        # On a phone: the same pages, without sideways scrolling.
        page.set_viewport_size({"width": 375, "height": 740})
        for name, address in (("phone-streams", board), ("phone-stream", stream_page)):
            page.goto(address)
            assert page.evaluate(NO_SIDEWAYS_SCROLL), name
            shot(name)
        assert problems == []
