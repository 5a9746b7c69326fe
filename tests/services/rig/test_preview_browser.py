"""The preview link of a live stream, opened in a real headless Chromium: the video plays the publisher's
picture, and a bad or stale link shows an error instead of a blank page.

The browser is the system's Chromium (Debian's `chromium`), driven by Playwright; none is downloaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.fixtures.browser import chromium_profile
from tests.fixtures.live import publishing, wait_for
from tests.services.rig.live_server import LiveRig, live_rig

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
PLAYING_PAST = (
    "(seconds) => { const v = document.querySelector('video'); return v.currentTime > seconds && !v.paused; }"
)
PLAYER_STATE = """() => {
  const video = document.querySelector("video");
  return {time: video.currentTime, width: video.videoWidth, height: video.videoHeight, paused: video.paused,
          status: document.getElementById("state").textContent, error: video.error && video.error.message};
}"""


class Watched:
    """A page with its script errors and crashes recorded, so a test can say the page never broke."""

    def __init__(self, context: BrowserContext) -> None:
        self.page: Page = context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"script error: {error}"))
        self.page.on("crash", lambda _: self.problems.append("the page crashed"))

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.page.evaluate(PLAYER_STATE)
        return state


def test_the_preview_plays_in_chromium(tmp_path: Path) -> None:
    with live_rig(tmp_path) as rig, chromium_profile(tmp_path / "chromium-profile") as browser:
        stream = rig.call("POST", "/streams/")
        sid = stream["id"]
        with publishing(rig.publish_url(stream["streamKey"])):
            page_url = wait_for(lambda: rig.call("GET", f"/streams/{sid}")["previewUrl"], timeout=30)
            watched = Watched(browser)
            assert watched.page.goto(page_url).status == 200  # type: ignore[union-attr]
            watched.page.wait_for_function(PLAYING_PAST, arg=2, timeout=90_000)
            state = watched.state()
            assert state["time"] > 2 and not state["paused"] and state["error"] is None
            assert (state["width"], state["height"]) == (320, 240)  # the publisher's picture size
            assert state["status"] == "Live"
            screenshot = tmp_path / "preview.png"
            watched.page.screenshot(path=screenshot)
            assert screenshot.read_bytes().startswith(b"\x89PNG")
            assert watched.problems == []
        check_stale_link(rig, stream, page_url, browser)
        check_bad_link(page_url, browser)


def check_stale_link(rig: LiveRig, stream: dict[str, Any], page_url: str, browser: BrowserContext) -> None:
    """Once the publisher stops, the same link opens a page that says the stream is not live; the page keeps
    trying, and plays when the stream is back."""
    wait_for(lambda: not rig.call("GET", f"/streams/{stream['id']}")["isStreaming"], timeout=30)
    watched = Watched(browser)
    assert watched.page.goto(page_url).status == 200  # type: ignore[union-attr]
    watched.page.wait_for_function(
        "() => document.getElementById('state').textContent.startsWith('Not live')", timeout=30_000
    )
    assert watched.state()["time"] == 0
    with publishing(rig.publish_url(stream["streamKey"])):
        watched.page.wait_for_function(PLAYING_PAST, arg=1, timeout=90_000)
        assert watched.state()["status"] == "Live"
    assert watched.problems == []


def check_bad_link(page_url: str, browser: BrowserContext) -> None:
    """A link whose signature does not match shows the error, and the browser is none the worse for it."""
    watched = Watched(browser)
    response = watched.page.goto(f"{page_url[:-4]}abcd")
    assert response is not None and response.status == 401
    assert "not valid or has expired" in watched.page.inner_text("body")
    assert watched.problems == []
