"""The room GUI in a real headless Chromium against a real server: the host opens the room's link and joins, a
guest opens the quick-join link, gives a name and joins; both connect over WebRTC to the room's MCU, see each
other in the composed picture, chat over the realtime websocket, and the guest leaves.

The browser is the system's Chromium (Debian's `chromium`), driven by Playwright; none is downloaded. Its fake
camera draws a moving coloured pattern, so a tile with someone in it stands out from the room's background.
"""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import numpy as np
import pytest

from tests.fixtures.browser import chromium
from tests.fixtures.live import wait_for
from tests.services.eyeson.live_server import LiveEyeson, live_eyeson

if TYPE_CHECKING:
    from playwright.sync_api import Browser, ConsoleMessage, Page

pytestmark = [pytest.mark.slow, pytest.mark.timeout(120)]
MEDIA_ARGS = (
    "--use-fake-device-for-media-stream",  # a generated camera picture and a beeping microphone
    "--use-fake-ui-for-media-stream",  # camera and microphone allowed without asking
    "--disable-features=WebRtcHideLocalIpsWithMdns",  # plain IP host candidates, which the server can reach
    "--allow-loopback-in-peer-connection",  # the server offers 127.0.0.1 only
)
BACKGROUND = (0x12, 0x12, 0x12)  # the room's default background colour
WAIT_MS = 30_000
# The room's picture as it is decoded (not as the page scales it): the remote video drawn on a canvas.
REMOTE_FRAME = """() => {
  const video = document.getElementById("remote");
  if (!video.videoWidth) return null;
  const canvas = document.createElement("canvas");
  canvas.width = video.videoWidth;
  canvas.height = video.videoHeight;
  canvas.getContext("2d").drawImage(video, 0, 0);
  return canvas.toDataURL("image/png");
}"""
VIDEO_PLAYING = """() => {
  const video = document.getElementById("remote");
  return video.videoWidth > 0 && video.currentTime > 0.5 && !video.paused;
}"""


class Person:
    """A page in its own browser context, with its script errors and crashes recorded."""

    def __init__(self, browser: Browser, name: str, width: int = 1100, height: int = 800) -> None:
        self.name = name
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page: Page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on("pageerror", lambda error: self.problems.append(f"{name}: script error: {error}"))
        self.page.on("crash", lambda _: self.problems.append(f"{name}: the page crashed"))
        self.page.on("console", self._console)
        self.page.set_default_timeout(WAIT_MS)

    def _console(self, message: ConsoleMessage) -> None:
        if message.type == "error":  # a refused resource (CSP, 404) or an uncaught rejection
            self.problems.append(f"{self.name}: console: {message.text} {message.location}")

    def open(self, url: str) -> None:
        response = self.page.goto(url)
        assert response is not None and response.status == 200

    def wait_state(self, *states: str) -> None:
        self.page.wait_for_function(
            "(states) => states.includes(document.body.dataset.state)", arg=list(states), timeout=WAIT_MS
        )

    @property
    def state(self) -> str:
        return str(self.page.evaluate("() => document.body.dataset.state"))

    def status(self) -> str:
        return self.page.inner_text("#status")

    def join(self) -> None:
        self.wait_state("prejoin")
        self.page.wait_for_function("() => !document.getElementById('join').disabled", timeout=WAIT_MS)
        self.page.click("#join")

    def say(self, text: str) -> None:
        self.page.fill("#chat-input", text)
        self.page.press("#chat-input", "Enter")

    def chat_texts(self) -> list[str]:
        texts: list[str] = self.page.eval_on_selector_all("#chat-log li p", "items => items.map(i => i.textContent)")
        return texts

    def screenshot(self, path: Path) -> None:
        self.page.screenshot(path=path, full_page=True)

    def remote_frame(self, path: Path) -> Any:
        """The room's picture as this page receives it, saved as a PNG; a Pillow image."""
        from PIL import Image

        data_url = self.page.evaluate(REMOTE_FRAME)
        assert isinstance(data_url, str) and data_url.startswith("data:image/png;base64,")
        png = base64.b64decode(data_url.split(",", 1)[1])
        path.write_bytes(png)
        return Image.open(io.BytesIO(png)).convert("RGB")


def filled(image: Any, box: tuple[int, int, int, int]) -> float:
    """The share of pixels in `box` that are clearly not the room's background (nor black)."""
    pixels = np.asarray(image.crop(box), dtype=np.int32).reshape(-1, 3)
    off_background = np.abs(pixels - np.array(BACKGROUND)).sum(axis=1) > 60
    not_black = pixels.sum(axis=1) > 60
    return float((off_background & not_black).mean())


def test_host_and_guest_meet_in_chromium(tmp_path: Path) -> None:
    with live_eyeson(tmp_path, eyeson_width=640, eyeson_height=480) as server, chromium(*MEDIA_ARGS) as browser:
        # The composer (sfu_mode disabled): the checks below read the tiles; with the default ptp each of the two
        # would get the other's camera full screen.
        fields = {"user[name]": "Hanna Host", "name": "Browser room", "options[sfu_mode]": "disabled"}
        room = server.call("POST", "rooms", 201, key=True, data=fields)
        room_id = room["room"]["id"]
        host, guest = Person(browser, "host"), Person(browser, "guest", 390, 844)  # the guest is on a phone

        host.open(room["links"]["gui"])
        host.wait_state("prejoin")
        assert host.page.inner_text("#room-name") == "Browser room"
        host.join()
        host.wait_state("connected")

        guest.open(room["links"]["guest_join"])
        guest.wait_state("guest")
        guest.page.fill("#guest-name", "Gustav Guest")
        guest.page.press("#guest-name", "Enter")
        guest.join()
        guest.wait_state("connected")
        # The guest's page is now the guest user's own link.
        assert "guest=" not in guest.page.url and guest.page.url.split("?", 1)[1]

        wait_for(lambda: server.online(room_id) == {"Hanna Host", "Gustav Guest"} or None, timeout=20)
        for person in (host, guest):
            person.page.wait_for_function(
                "() => document.querySelectorAll('#people li.online').length === 2", timeout=WAIT_MS
            )

        host.say("Hello from the host")
        guest.page.wait_for_function(
            "() => [...document.querySelectorAll('#chat-log li p')].some(p => p.textContent === 'Hello from the host')",
            timeout=WAIT_MS,
        )
        guest.say("Hi, the guest here")
        host.page.wait_for_function(
            "() => [...document.querySelectorAll('#chat-log li p')].some(p => p.textContent === 'Hi, the guest here')",
            timeout=WAIT_MS,
        )
        assert "Hi, the guest here" in host.chat_texts() and "Hello from the host" in host.chat_texts()

        # The host's picture of the room: two tiles side by side, each showing a fake camera.
        host.page.wait_for_function(VIDEO_PLAYING, timeout=WAIT_MS)
        check_two_tiles(host, tmp_path)
        host.screenshot(tmp_path / "host.png")
        guest.screenshot(tmp_path / "guest.png")
        check_controls(host, guest, tmp_path)

        guest.page.click("#leave")
        guest.wait_state("left")
        assert guest.status() == "You left the meeting."
        guest.screenshot(tmp_path / "guest-left.png")
        wait_for(lambda: server.online(room_id) == {"Hanna Host"} or None, timeout=20)
        host.page.wait_for_function(
            "() => document.querySelectorAll('#people li.online').length === 1", timeout=WAIT_MS
        )
        assert host.state == "connected"

        # The meeting ends (stopped with the API key): the host's page says so and lets go of the media.
        server.call("DELETE", f"rooms/{room_id}", 204, key=True)
        host.wait_state("ended")
        assert host.status() == "The meeting has ended."
        host.screenshot(tmp_path / "host-ended.png")
        assert host.problems == [] and guest.problems == []
        check_links(server, browser, room["access_key"])
        check_room_options(server, browser)
        check_permalink(server, browser)


def check_links(server: LiveEyeson, browser: Browser, access_key: str) -> None:
    """The page without its trailing slash still finds its files; bad and stale links say what is wrong."""
    page = httpx.get(f"{server.base}gui?{access_key}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert '<base href="gui/">' in page.text and "Content-Security-Policy" in page.headers
    script = httpx.get(f"{server.base}gui/static/gui.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert httpx.get(f"{server.base}gui/static/nothing.js").status_code == 404

    visitor = Person(browser, "visitor")
    visitor.open(f"{server.base}gui?{access_key}")  # the meeting has ended: 410 behind the page
    visitor.wait_state("ended")
    visitor.open(f"{server.base}gui/?nosuchkey")
    visitor.wait_state("error")
    assert visitor.status() == "This meeting link is not valid."
    visitor.open(f"{server.base}gui/")
    visitor.wait_state("error")
    assert "no access key" in visitor.status()
    # Chromium logs the API's 410 and 404 answers; the page itself does not break on them.
    assert [p for p in visitor.problems if "Failed to load resource" not in p] == []


def check_permalink(server: LiveEyeson, browser: Browser) -> None:
    """A permalink's guest link waits until a host's link has started the meeting, then joins it."""
    made = server.call("POST", "permalink", 201, key=True, data={"user[name]": "Paula", "name": "Standing call"})
    guest = Person(browser, "early guest")
    guest.open(made["links"]["guest_join"])
    guest.wait_state("guest")
    guest.page.fill("#guest-name", "Early Ed")
    guest.page.press("#guest-name", "Enter")
    guest.page.wait_for_function("() => /Waiting for a host/.test(document.getElementById('status').textContent)")
    host = Person(browser, "permalink host")
    host.open(made["links"]["gui"])
    host.wait_state("prejoin")
    assert host.page.inner_text("#room-name") == "Standing call"
    guest.wait_state("prejoin")  # its next try gets in
    assert guest.page.inner_text("#room-name") == "Standing call"
    # Chromium logs the 423 answers while the guest waits; the page itself does not break on them.
    assert [p for p in guest.problems + host.problems if "Failed to load resource" not in p] == []


def tile_shares(host: Person, path: Path, good: Any) -> tuple[float, float]:
    """How much of the left (host) and right (guest) half of the host's picture is camera picture, once `good`
    says yes or after about 10 s (tiles show a change a few frames later)."""
    shares = (0.0, 0.0)
    for _ in range(40):
        image = host.remote_frame(path)
        width, height = image.size
        shares = (filled(image, (0, 0, width // 2, height)), filled(image, (width // 2, 0, width, height)))
        if good(shares):
            break
        host.page.wait_for_timeout(250)
    return shares


def check_two_tiles(host: Person, tmp_path: Path) -> None:
    """Both halves of the composite carry a camera picture."""
    shares = tile_shares(host, tmp_path / "host-remote-video.png", lambda s: min(s) > 0.2)
    assert min(shares) > 0.2, f"the tiles' share of picture (left, right): {shares}"


def check_controls(host: Person, guest: Person, tmp_path: Path) -> None:
    """Camera off sends black (the guest's tile goes dark for everyone), on brings it back; mute says so; a
    device switch replaces the track without a new connection."""
    guest.page.click("#cam")
    assert guest.page.inner_text("#cam") == "Turn camera on"
    assert guest.page.get_attribute("#cam", "aria-pressed") == "true"
    shares = tile_shares(host, tmp_path / "host-remote-video-camera-off.png", lambda s: s[1] < 0.02)
    assert shares[0] > 0.2 and shares[1] < 0.02, shares
    guest.page.click("#cam")
    shares = tile_shares(host, tmp_path / "host-remote-video-camera-on.png", lambda s: min(s) > 0.2)
    assert min(shares) > 0.2, shares

    guest.page.click("#mic")
    assert guest.page.inner_text("#mic") == "Unmute microphone"
    assert guest.page.evaluate("() => document.getElementById('mic').getAttribute('aria-pressed')") == "true"
    guest.page.click("#mic")
    assert guest.page.inner_text("#mic") == "Mute microphone"

    guest.page.select_option("#camera-select", index=0)
    guest.page.wait_for_function("() => document.getElementById('status').textContent.startsWith('Camera switched')")
    assert guest.state == "connected"
    shares = tile_shares(host, tmp_path / "host-remote-video-switched.png", lambda s: min(s) > 0.2)
    assert min(shares) > 0.2, shares


def check_room_options(server: LiveEyeson, browser: Browser) -> None:
    """options[custom_fields][hide_chat] hides the chat; Leave goes to options[exit_url]."""
    exit_url = f"{server.api}/health"
    fields = {"user[name]": "Olga", "options[custom_fields][hide_chat]": "true", "options[exit_url]": exit_url}
    room = server.call("POST", "rooms", 201, key=True, data=fields)
    olga = Person(browser, "olga")
    olga.open(room["links"]["gui"])
    olga.join()
    olga.wait_state("connected")
    assert olga.page.is_hidden("#chat") and olga.page.is_visible("#people")
    assert olga.problems == []
    # Not before the server has her online: a leave right after connecting can lose to the late "connected".
    wait_for(lambda: server.online(room["room"]["id"]) == {"Olga"} or None, timeout=20)
    olga.page.click("#leave")
    olga.page.wait_for_url(exit_url)
    wait_for(lambda: server.online(room["room"]["id"]) == set() or None, timeout=20)
