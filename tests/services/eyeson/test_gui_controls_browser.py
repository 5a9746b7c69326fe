"""The room GUI's recording and screen-sharing controls in a real headless Chromium against a real server.

The host starts a recording from the page, the guest's page shows it (recording_update) and the guest stops it;
the API then has the recording, ready with its file. The host shares a screen: headless Chromium with
`--use-fake-ui-for-media-stream` picks a screen without asking, and `--use-fake-device-for-media-stream` makes it
a generated 1280x720 picture (the same pattern as the fake camera, 16:9). It goes to the server on a second
connection and shows in everyone's picture as a third tile — letterboxed, as a 16:9 picture in a 4:3 tile —
and goes again when the host stops sharing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.browser import chromium
from tests.fixtures.live import wait_for
from tests.services.eyeson.live_server import LiveEyeson, live_eyeson
from tests.services.eyeson.test_gui_browser import MEDIA_ARGS, VIDEO_PLAYING, WAIT_MS, Person, filled

pytestmark = [pytest.mark.slow, pytest.mark.timeout(150)]
W, H = 640, 480


def quadrant_shares(person: Person, path: Path, good: Any) -> list[float]:
    """How much of each quarter of the room's picture (top left, top right, bottom left, bottom right) is
    picture, once `good` says yes or after about 10 s."""
    shares = [0.0] * 4
    for _ in range(40):
        image = person.remote_frame(path)
        w, h = image.size
        boxes = [(0, 0, w // 2, h // 2), (w // 2, 0, w, h // 2), (0, h // 2, w // 2, h), (w // 2, h // 2, w, h)]
        shares = [filled(image, box) for box in boxes]
        if good(shares, image):
            break
        person.page.wait_for_timeout(250)
    return shares


def status_is(person: Person, pattern: str) -> None:
    person.page.wait_for_function(
        "(pattern) => new RegExp(pattern).test(document.getElementById('status').textContent)",
        arg=pattern,
        timeout=WAIT_MS,
    )


def body_is(person: Person, attribute: str, value: str) -> None:
    person.page.wait_for_function(
        "([name, value]) => document.body.getAttribute(name) === value", arg=[attribute, value], timeout=WAIT_MS
    )


def recordings(server: LiveEyeson, room_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = server.call("GET", f"rooms/{room_id}/recordings", key=True)
    return found


def test_record_and_share_a_screen_from_the_page(tmp_path: Path) -> None:
    with live_eyeson(tmp_path, eyeson_width=W, eyeson_height=H) as server, chromium(*MEDIA_ARGS) as browser:
        # The composer with two people too (no SFU shortcut), so that the picture always has the tiles.
        fields = {"user[name]": "Hanna Host", "name": "Controls", "options[sfu_mode]": "disabled"}
        room = server.call("POST", "rooms", 201, key=True, data=fields)
        room_id = room["room"]["id"]
        host, guest = Person(browser, "host"), Person(browser, "guest")
        host.open(room["links"]["gui"])
        host.wait_state("prejoin")
        assert host.page.is_hidden("#record") and host.page.is_hidden("#screen")  # in the meeting only
        host.join()
        host.wait_state("connected")
        guest.open(room["links"]["guest_join"])
        guest.wait_state("guest")
        guest.page.fill("#guest-name", "Gustav Guest")
        guest.page.press("#guest-name", "Enter")
        guest.join()
        guest.wait_state("connected")
        wait_for(lambda: server.online(room_id) == {"Hanna Host", "Gustav Guest"} or None, timeout=20)

        # -- recording: started by the host, seen and stopped by the guest, ready through the API
        assert host.page.inner_text("#record") == "Start recording" and host.page.is_visible("#record")
        assert host.page.is_hidden("#recording")
        host.page.click("#record")
        body_is(host, "data-recording", "on")
        status_is(host, "^Started recording the meeting")
        assert host.page.inner_text("#record") == "Stop recording" and host.page.is_visible("#recording")
        body_is(guest, "data-recording", "on")
        status_is(guest, "^Hanna Host started recording")
        (running,) = recordings(server, room_id)
        assert running["status"] == "recording" and running["user"]["name"] == "Hanna Host"
        host.page.wait_for_timeout(2500)
        guest.page.click("#record")
        body_is(guest, "data-recording", "off")
        body_is(host, "data-recording", "off")
        assert guest.page.inner_text("#record") == "Start recording" and guest.page.is_hidden("#recording")
        wait_for(lambda: recordings(server, room_id)[0]["status"] == "ready" or None, timeout=30)
        (ready,) = recordings(server, room_id)
        assert ready["id"] == running["id"] and ready["duration"] >= 2 and ready["links"]["download"]
        status_is(host, "^The recording is ready")

        # -- screen sharing: the screen large on top, the two cameras in a strip below; gone when the host stops
        host.page.wait_for_function(VIDEO_PLAYING, timeout=WAIT_MS)
        assert host.page.inner_text("#screen") == "Share screen"
        assert host.page.get_attribute("#screen", "aria-pressed") == "false"
        host.page.click("#screen")
        body_is(host, "data-screen", "on")
        status_is(host, "^You are sharing your screen")
        assert host.page.inner_text("#screen") == "Stop sharing"
        assert host.page.get_attribute("#screen", "aria-pressed") == "true"

        shares = quadrant_shares(guest, tmp_path / "guest-sees-a-screen.png", presenting)
        image = guest.remote_frame(tmp_path / "guest-sees-a-screen.png")
        assert presenting(shares, image), presentation_shares(image)
        guest.page.wait_for_function(
            "() => /sharing screen/.test(document.querySelector('#people').textContent)", timeout=WAIT_MS
        )
        host.screenshot(tmp_path / "host-sharing.png")

        host.page.click("#screen")
        body_is(host, "data-screen", "off")
        status_is(host, "^You stopped sharing")

        def two_tiles(shares: list[float], image: Any) -> bool:
            # Side by side: each 4:3 camera in a tall tile, with empty bands above and below.
            w, h = image.size
            return min(shares) > 0.2 and filled(image, (0, 0, w, h // 4 - 8)) < 0.02

        shares = quadrant_shares(guest, tmp_path / "guest-screen-gone.png", two_tiles)
        image = guest.remote_frame(tmp_path / "guest-screen-gone.png")
        assert two_tiles(shares, image), shares
        guest.page.wait_for_function(
            "() => !/sharing screen/.test(document.querySelector('#people').textContent)", timeout=WAIT_MS
        )
        assert host.state == "connected" and guest.state == "connected"
        assert host.problems == [] and guest.problems == []

        # A room without recordings has no recording button.
        fields = {"user[name]": "Nora", "options[recording_available]": "false"}
        plain = server.call("POST", "rooms", 201, key=True, data=fields)
        nora = Person(browser, "nora")
        nora.open(plain["links"]["gui"])
        nora.join()
        nora.wait_state("connected")
        assert nora.page.is_hidden("#record") and nora.page.is_visible("#screen")
        assert nora.problems == []


def presentation_shares(image: Any) -> tuple[float, float, float]:
    """The picture's share in the top three quarters (the screen), in the middle of the strip below (the two
    cameras) and at the strip's left end (empty: two cameras are centred in a strip of three)."""
    w, h = image.size
    below = h * 3 // 4 + 4
    top = filled(image, (0, 0, w, h * 3 // 4 - 4))
    return top, filled(image, (w // 4, below, w * 3 // 4, h)), filled(image, (0, below, w // 8, h))


def presenting(shares: list[float], image: Any) -> bool:
    top, strip, margin = presentation_shares(image)
    return top > 0.5 and strip > 0.2 and margin < 0.02
