"""eyeson's dashboard in a real headless Chromium against a live server: sign in, a room started through the API
with the team's key, an aiortc peer joins it and appears on the room's page without a reload, a recording
started and stopped from the dashboard becomes ready and plays in the page. Screenshots of every page go to the
`screenshots` fixture's folder.

The browser is the system's Chromium (Debian's `chromium`), driven by Playwright; none is downloaded.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pytest
from aiortc import RTCSessionDescription

from mediaplane.app import create_app
from mediaplane.core.catalog import Registry
from mediaplane.services.eyeson import spec as eyeson_spec
from tests.conftest import make_settings
from tests.fixtures.browser import NO_SIDEWAYS_SCROLL, Screenshots, chromium, create_instance, seed_tenants, sign_in_at
from tests.fixtures.servers import free_port, serve_in_thread
from tests.fixtures.webrtc import RED, Peer

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120), pytest.mark.usefixtures("loopback_ice")]
PASSWORD = "correct horse battery"
API_KEY = "Y29uc29sZS1leWVzb24ta2V5LWZvci10ZXN0cy0wMQ"
WAIT_MS = 30_000
PLAYED = """() => { const v = document.querySelector('[data-recording-id] video');
  return !!v && v.videoWidth === 320 && v.readyState >= 2; }"""
T = TypeVar("T")


@contextlib.contextmanager
def live_server(tmp_path: Path) -> Iterator[str]:
    """`serve` with eyeson (its workers running); tenant acme (console password) with the eyeson instance `team`."""
    port = free_port()
    settings = make_settings(
        tmp_path / "data",
        f"sqlite+aiosqlite:///{tmp_path / 'eyeson.db'}",
        port=port,
        workers=1,
        run_workers=True,
        eyeson_width=320,
        eyeson_height=240,
        eyeson_fps=10,
        eyeson_ice_host="127.0.0.1",
    )
    registry = Registry([eyeson_spec])

    pat = seed_tenants(settings, registry, PASSWORD)["acme"]
    with serve_in_thread(create_app(settings, registry=registry), port) as url:
        create_instance(url, pat, "eyeson", {"name": "team", "apiKey": API_KEY, "teamName": "Console Team"})
        yield url


class PeerThread:
    """An aiortc peer on an event loop of its own (Playwright's sync API holds this thread's)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.peer: Peer | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def join(self, base: str, access_key: str) -> None:
        async def connect() -> None:
            self.peer = Peer(RED)
            offer = {"type": "offer", "sdp": await self.peer.offer()}
            async with httpx.AsyncClient() as client:
                r = await client.post(f"{base}rooms/{access_key}/webrtc", json=offer, timeout=30)
            assert r.status_code == 201, r.text
            answer = r.json()
            await self.peer.pc.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))

        self.run(connect())

    def close(self) -> None:
        if self.peer is not None:
            self.run(self.peer.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


def text(page: Page, selector: str) -> str:
    return (page.locator(selector).first.text_content() or "").strip()


def test_the_eyeson_dashboard_in_chromium(tmp_path: Path, screenshots: Path) -> None:
    shots = screenshots
    problems: list[str] = []
    peer = PeerThread()
    try:
        with live_server(tmp_path) as url, chromium() as browser:
            api = f"{url}/eyeson/acme-team/"
            page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
            page.set_default_timeout(WAIT_MS)
            page.on("pageerror", lambda error: problems.append(f"script error: {error}"))

            shot = Screenshots(page, shots)

            board = f"{url}/console/eyeson/team/"
            sign_in_at(page, board, PASSWORD)
            assert "No room is running now." in text(page, "main")
            shot("empty")

            # A room through the API, with the team's key; it appears on the open page without a reload.
            page.evaluate("() => { window.stayed = true; }")
            fields = {"user[name]": "Hanna Host", "name": "Standup"}
            room = httpx.post(f"{api}rooms", headers={"Authorization": API_KEY}, data=fields, timeout=30).json()
            page.get_by_role("link", name="Standup").wait_for()  # its row added by the page's script
            assert page.evaluate("() => window.stayed") is True
            page.get_by_role("link", name="Standup").click()
            page.wait_for_url("**/rooms/*")
            assert text(page, "[data-field=users]") == "Hanna Host — not connected"
            page.evaluate("() => { window.stayed = true; }")
            shot("room")

            guest = {"user[name]": "Pia Peer", "id": room["room"]["id"], "user[id]": "pia"}
            pia = httpx.post(f"{api}rooms", headers={"Authorization": API_KEY}, data=guest, timeout=30).json()
            peer.join(api, pia["access_key"])
            page.wait_for_function(
                "() => [...document.querySelectorAll('[data-field=users] li.online')]"
                ".some(li => li.textContent.startsWith('Pia Peer'))"
            )
            assert page.evaluate("() => window.stayed") is True
            shot("participant")

            page.get_by_role("button", name="Start recording").click()
            page.wait_for_url("**?done=recording")
            assert text(page, "[data-recording-id] [data-field=status]") == "recording"
            assert page.get_by_role("button", name="Start recording").is_hidden()
            shot("recording")
            page.wait_for_timeout(2000)
            page.get_by_role("button", name="Stop recording").click()
            page.wait_for_url("**?done=stopped")
            page.wait_for_function(PLAYED)  # ready, then loaded into the page's player without a reload
            assert text(page, "[data-recording-id] [data-field=status]") == "ready"
            assert page.get_by_role("button", name="Stop recording").is_hidden()
            page.evaluate("() => document.querySelector('[data-recording-id] video').play()")
            page.wait_for_function("() => document.querySelector('[data-recording-id] video').currentTime > 0.5")
            shot("played")

            page.set_viewport_size({"width": 375, "height": 740})
            page.reload()
            assert page.evaluate(NO_SIDEWAYS_SCROLL)
            shot("phone-room")
            page.goto(board)
            assert page.evaluate(NO_SIDEWAYS_SCROLL)
            assert "Standup" in text(page, "[data-room-id]")
            shot("phone-rooms")
            page.goto(f"{board}join-link")
            page.get_by_label("User name").fill("Nora Newcomer")
            page.get_by_role("button", name="Make the join link").click()
            assert text(page, "h1") == "A join link for Nora Newcomer"
            assert page.evaluate(NO_SIDEWAYS_SCROLL)
            shot("phone-join-link")
            assert problems == []
    finally:
        peer.close()
