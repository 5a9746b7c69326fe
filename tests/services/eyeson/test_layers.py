"""Layers through eyeson's API: an uploaded PNG over the tiles, a picture at a URL under them, a text insert with
an icon, an SVG — each at the right pixels of what a real aiortc peer receives (or of the room's picture); a room
started again shows the stored layers; bad pictures are 400s."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from mediaplane.kit.mcu import McuRoom, render_insert
from mediaplane.services.eyeson.errors import EyesonError
from mediaplane.services.eyeson.events import room_channel
from mediaplane.services.eyeson.images import decode_image
from mediaplane.services.eyeson.media import media_rooms
from mediaplane.services.eyeson.models import EyesonMeeting
from tests.fixtures.servers import serve_folder
from tests.fixtures.webrtc import BACKGROUND, BLUE, RED, Peer, Picture, colour_at, near
from tests.services.eyeson.conftest import Eyeson, connect, error_of, online

pytestmark = [pytest.mark.timeout(60), pytest.mark.usefixtures("loopback_ice")]


@pytest.fixture
def database_url(sqlite_database_url: str) -> str:
    """SQLite only: what is tested here is media."""
    return sqlite_database_url


W, H = 320, 240
MAGENTA = (200, 40, 200)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def gif() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), RED).save(out, "GIF")
    return out.getvalue()


def blue_square() -> bytes:
    """Transparent, with an opaque blue square at (20..60, 20..60)."""
    image = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    image.paste((*BLUE, 255), (20, 20, 60, 60))
    return png(image)


@pytest.fixture
def files(tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "site"
    root.mkdir()
    (root / "magenta.png").write_bytes(png(Image.new("RGB", (W // 2, H // 2), MAGENTA)))  # stretched to the canvas
    (root / "icon.png").write_bytes(png(Image.new("RGB", (16, 16), RED)))
    (root / "notes.txt").write_text("not a picture")
    with serve_folder(root) as url:
        yield root, url


def the_room(eyeson: Eyeson) -> tuple[str, McuRoom]:
    ((meeting_id, room),) = media_rooms(eyeson.runtime).rooms.items()
    return meeting_id, room


def at(x: int, y: int, rgb: tuple[int, int, int]) -> Any:
    return lambda picture: near(colour_at(picture, x, y), rgb)


def every(*checks: Any) -> Any:
    return lambda picture: all(check(picture) for check in checks)


async def picture_of(room: McuRoom, check: Any, within: float = 10) -> Picture:
    """The room's own composed picture once it passes `check` (no peer needed)."""
    for _ in range(int(within / 0.05)):
        frame = room.picture()
        if frame is not None:
            picture: Picture = frame.to_ndarray(format="rgb24")
            if check(picture):
                return picture
        await asyncio.sleep(0.05)
    raise AssertionError("the room's picture never matched")


async def test_a_png_layer_a_background_and_a_text_insert(
    eyeson: Eyeson, peers: list[Peer], files: tuple[Path, str]
) -> None:
    _root, site = files
    room = await eyeson.room("Ann", id="layers", **{"user[id]": "ann"})
    ak = room["access_key"]
    peer = await connect(eyeson, Peer(RED, None), ak)
    peers.append(peer)
    await online(eyeson, "layers", {"ann"})
    meeting_id, _mcu = the_room(eyeson)
    await eyeson.ok("POST", f"/rooms/{ak}/layout", data={"layout": "custom", "users[]": ["ann", ""]})
    # Ann's 160x120 picture in the left 160x240 tile (rows 60..180); the right spot empty.

    async with eyeson.runtime.events.subscribe(room_channel(meeting_id)) as observed:
        upload = {"file": ("layer.png", blue_square(), "image/png")}
        await eyeson.ok("POST", f"/rooms/{ak}/layers", 201, files=upload, data={"z-index": "1", "id": "logo"})
        await eyeson.ok("POST", f"/rooms/{ak}/layers", 201, data={"url": f"{site}/magenta.png", "z-index": "-1"})
        await peer.wait_for(
            every(at(40, 40, BLUE), at(80, 120, RED), at(80, 220, MAGENTA), at(240, 120, MAGENTA)), within=20
        )
        podiums = []
        while len(podiums) < 2:
            message = await asyncio.wait_for(anext(aiter(observed)), 5)
            if message["type"] == "podium_update":
                podiums.append(message["podium"])
    layers = [spot for spot in podiums[-1] if spot["z-index"] != 0]
    assert layers == [
        {
            "user_id": None,
            "play_id": None,
            "layer_id": None,
            "width": W,
            "height": H,
            "left": 0,
            "top": 0,
            "z-index": -1,
        },
        {
            "user_id": None,
            "play_id": None,
            "layer_id": "logo",
            "width": W,
            "height": H,
            "left": 0,
            "top": 0,
            "z-index": 1,
        },
    ]
    async with eyeson.runtime.db.session() as session:
        meeting = await session.get(EyesonMeeting, meeting_id)
        assert meeting is not None and set(meeting.layers) == {"1", "-1"}
        assert meeting.layers["1"]["source"] == "file" and meeting.layers["-1"]["source"] == "url"

    # A text insert replaces the foreground: a dark box in the lower part, the icon at its left.
    insert = {"insert[title]": "Breaking", "insert[content]": "Hello", "insert[icon]": f"{site}/icon.png"}
    await eyeson.ok("POST", f"/rooms/{ak}/layers", 201, data=insert)
    drawn = render_insert(W, H, "Breaking", "Hello", Image.new("RGB", (16, 16), RED))
    box, icon = drawn.box, drawn.icon
    assert icon is not None
    empty = (box.left + box.width * 3 // 4, box.top + box.height // 2)  # right of the short text, over magenta
    dark = (47, 25, 55)  # the box's fill at 84 % over magenta
    icon_at = (icon.left + icon.width // 2, icon.top + icon.height // 2)
    picture = await peer.wait_for(every(at(*empty, dark), at(*icon_at, RED), at(40, 40, MAGENTA)), within=20)
    text = picture[box.top + 3 : box.top + box.height - 3, icon.left + icon.width + 2 : box.left + box.width // 2]
    assert text.max() > 150  # the letters

    await eyeson.ok("DELETE", f"/rooms/{ak}/layers/1")
    await peer.wait_for(at(*empty, MAGENTA), within=20)
    await eyeson.ok("DELETE", f"/rooms/{ak}/layers/-1")
    await peer.wait_for(every(at(240, 120, BACKGROUND), at(80, 120, RED)), within=20)
    async with eyeson.runtime.db.session() as session:
        meeting = await session.get(EyesonMeeting, meeting_id)
        assert meeting is not None and meeting.layers == {}
    assert await eyeson.runtime.storage.list(f"eyeson/{meeting.instance_id}/layers") == []


async def test_a_room_started_again_shows_its_layers(eyeson: Eyeson) -> None:
    room = await eyeson.room("Ann", id="again")
    ak = room["access_key"]
    await eyeson.ok("POST", f"/rooms/{ak}/layers", 201, files={"file": ("x.png", blue_square(), "image/png")})
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}">'
        f'<rect x="{W // 2}" y="0" width="{W // 2}" height="{H}" fill="rgb{MAGENTA}"/></svg>'
    )
    await eyeson.ok(
        "POST",
        f"/rooms/{ak}/layers",
        201,
        files={"file": ("blob", svg.encode(), "image/svg+xml")},
        data={"z-index": "-1"},
    )
    meeting_id, mcu = the_room(eyeson)
    layered = every(at(40, 40, BLUE), at(240, 120, MAGENTA), at(80, 120, BACKGROUND))
    await picture_of(mcu, layered)

    await media_rooms(eyeson.runtime).close_room(meeting_id)  # as if the process had restarted
    again = await media_rooms(eyeson.runtime).ensure(await _meeting(eyeson, meeting_id))
    await picture_of(again, layered)


async def _meeting(eyeson: Eyeson, meeting_id: str) -> EyesonMeeting:
    async with eyeson.runtime.db.session() as session:
        meeting = await session.get(EyesonMeeting, meeting_id)
        assert meeting is not None
        return meeting


BAD_SVG = '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><image href="/etc/hosts.png"/></svg>'


BAD: list[tuple[dict[str, str], Any, str]] = [
    ({}, None, "give one of file, url or insert"),
    ({"url": "file:///etc/passwd"}, None, "url must be an http or https URL"),
    ({"url": "{site}/missing.png"}, None, "answered 404"),
    ({"url": "{site}/notes.txt"}, None, "not a PNG, JPEG, WebP or SVG"),
    ({"url": "{site}/magenta.png", "z-index": "2"}, None, "z-index must be 1"),
    ({"url": "{site}/magenta.png"}, ("a.png", b"GIF89a not really", "image/png"), "give one of"),
    ({}, ("a.png", png(Image.new("RGB", (64, 64), RED))[:-30], "image/png"), "cannot be read"),
    ({}, ("a.txt", b"hello", "text/plain"), "not an image"),
    ({}, ("a.gif", gif(), "image/gif"), "GIF images are not accepted"),
    ({}, ("a.svg", BAD_SVG.encode(), "image/svg+xml"), "may only refer to its own elements"),
    ({"insert[icon]": "{site}/icon.png"}, None, "needs insert[title] or insert[content]"),
    ({"insert[title]": "x", "insert[icon]": "{site}/notes.txt"}, None, "insert[icon]"),
]


async def test_bad_layers_are_400(eyeson: Eyeson, files: tuple[Path, str]) -> None:
    _root, site = files
    ak = (await eyeson.room("Ann", id="bad"))["access_key"]
    for data, upload, message in BAD:
        form = {k: v.replace("{site}", site) for k, v in data.items()}
        r = await eyeson.request("POST", f"/rooms/{ak}/layers", data=form, files={"file": upload} if upload else None)
        status, error = error_of(r)
        assert status == 400 and message in error, (data, error)
    meeting_id, room = the_room(eyeson)
    assert media_rooms(eyeson.runtime).scene.layers_podium(meeting_id, room) == []  # nothing was shown


async def test_layer_routes_answer_as_eyeson(eyeson: Eyeson) -> None:
    ak = (await eyeson.room("Ann", id="routes"))["access_key"]
    assert error_of(await eyeson.request("DELETE", f"/rooms/{ak}/layers/5"))[0] == 400
    assert (await eyeson.request("DELETE", f"/rooms/{ak}/layers/1")).status_code == 200  # nothing there: fine
    r = await eyeson.request("POST", "/rooms/unknownkey/layers", json={"insert": {"title": "x"}})
    assert error_of(r)[0] == 404
    r = await eyeson.request(
        "POST",
        f"/rooms/{ak}/layers",
        content=json.dumps({"insert": {"title": "Hi"}}),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 201, r.text  # @eyeson/node sends JSON with a nested insert


SVG_HEAD = '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'


@pytest.mark.parametrize(
    "body",
    [
        "<image xlink:href='file:///etc/passwd'/>",
        '<image href = "/srv/secret.png"/>',
        "<rect style=\"fill: url( 'https://example.com/x.svg#p' )\"/>",
        "<style>@import url(#x);</style>",
        '<!DOCTYPE svg [<!ENTITY a "aaaa">]><text>&a;</text>',
        '<use href="other.svg#shape"/>',
    ],
)
def test_an_svg_that_reaches_outside_itself_is_refused(body: str) -> None:
    with pytest.raises(EyesonError) as refused:
        decode_image(f"{SVG_HEAD}{body}</svg>".encode(), 64, 48)
    assert refused.value.status_code == 400


def test_an_svg_may_use_its_own_elements_and_data() -> None:
    dot = "data:image/png;base64," + base64.b64encode(png(Image.new("RGB", (2, 2), RED))).decode()
    body = (
        '<defs><linearGradient id="g"><stop offset="0" stop-color="blue"/></linearGradient></defs>'
        f'<rect id="r" width="32" height="48" style="fill:url(#g)"/><use xlink:href="#r" x="32"/>'
        f'<image href="{dot}" x="0" y="0" width="8" height="8"/>'
    )
    image = decode_image(f'{SVG_HEAD[:-1]} width="64" height="48">{body}</svg>'.encode(), 64, 48)
    assert image.size == (64, 48) and image.getpixel((40, 40))[2] > 200 and image.getpixel((2, 2))[0] > 200
