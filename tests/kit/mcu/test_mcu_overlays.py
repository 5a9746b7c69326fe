"""What a room shows and mixes besides its participants: layers over and under the tiles, text inserts, files
played in place of a participant (picture and tone), and participants muted out of the mix."""

from __future__ import annotations

import asyncio
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from tests.fixtures.media import make_colour_clip
from tests.fixtures.webrtc import BACKGROUND, BLUE, GREEN, RED, Picture, Rooms, colour_at, near, shows, tone_level

from mediaplane.kit.mcu import McuConflictError, McuSourceError, PlaybackSpec, Rect, render_insert, tile_rects
from mediaplane.kit.mcu.compositor import Compositor
from mediaplane.kit.mcu.overlay import prepare_background, prepare_foreground
from mediaplane.kit.mcu.picture import rgb_to_yuv

pytestmark = pytest.mark.timeout(40)
W, H = 320, 240
MAGENTA = (200, 40, 200)
WHITE = (255, 255, 255)


def layer_image() -> Image.Image:
    """Transparent, but an opaque blue square (20..60, 20..60) and a half-transparent white one (200..260,
    100..160)."""
    image = Image.new("RGBA", (W, H), (0, 0, 0, 0))
    image.paste((*BLUE, 255), (20, 20, 60, 60))
    image.paste((*WHITE, 128), (200, 100, 260, 160))
    return image


def at(x: int, y: int, rgb: tuple[int, int, int]) -> object:
    def check(picture: Picture) -> bool:
        return near(colour_at(picture, x, y), rgb)

    return check


def all_of(*checks: object) -> object:
    def check(picture: Picture) -> bool:
        return all(c(picture) for c in checks)  # type: ignore[operator]

    return check


class TestPrepared:
    def test_blending_is_exact_where_it_matters(self) -> None:
        compositor = Compositor(W, H, BACKGROUND)
        fg = prepare_foreground(layer_image(), W, H)
        assert fg is not None and (fg.left, fg.top) == (20, 20)  # cropped to what shows
        assert fg.y.shape == (140, 240)
        bg = prepare_background(Image.new("RGB", (W // 2, H // 2), MAGENTA), W, H, BACKGROUND)  # stretched
        frame = compositor.compose([], False, 0, background=bg, foreground=fg)
        y = np.asarray(frame.to_ndarray())[:H]
        assert abs(int(y[40, 40]) - rgb_to_yuv(BLUE)[0]) <= 1
        assert abs(int(y[5, 300]) - rgb_to_yuv(MAGENTA)[0]) <= 1
        half = (rgb_to_yuv(MAGENTA)[0] + rgb_to_yuv(WHITE)[0]) / 2
        assert abs(int(y[130, 230]) - half) <= 2

    def test_a_transparent_picture_is_no_layer(self) -> None:
        assert prepare_foreground(Image.new("RGBA", (W, H), (9, 9, 9, 0)), W, H) is None

    def test_a_background_with_alpha_is_flattened_on_the_room_colour(self) -> None:
        planes = prepare_background(Image.new("RGBA", (W, H), (255, 255, 255, 0)), W, H, BACKGROUND)
        assert int(planes.y[10, 10]) == rgb_to_yuv(BACKGROUND)[0]


async def test_layers_over_and_under_the_tiles(rooms: Rooms) -> None:
    room = await rooms.room()
    peer = await rooms.peer(RED).join(room, "a", "Ann")
    room.set_layout(["a", ""])  # Ann left (160x120 in a 160x240 tile: rows 60..180), the right spot empty
    await room.set_layer(-1, Image.new("RGB", (W, H), MAGENTA))
    await room.set_layer(1, layer_image())
    left, right = tile_rects(2, W, H)
    layered = all_of(
        shows([(left, RED)]),  # the tile over the background layer
        at(80, 220, MAGENTA),  # below Ann's picture in her tile
        at(300, 30, MAGENTA),  # the empty spot
        at(40, 40, BLUE),  # the foreground over the background
        at(230, 130, (227, 147, 227)),  # half white over magenta
    )
    await peer.wait_for(layered)

    await room.set_layer(1, Image.new("RGBA", (W // 2, H // 2), (*BLUE, 255)))  # stretched over everything
    await peer.wait_for(all_of(at(80, 120, BLUE), at(300, 200, BLUE)))
    await room.set_layer(1, None)
    await peer.wait_for(all_of(at(40, 40, MAGENTA), shows([(left, RED)])))
    await room.set_layer(-1, None)
    await peer.wait_for(all_of(at(300, 30, BACKGROUND), at(80, 220, BACKGROUND), shows([(right, BACKGROUND)])))
    with pytest.raises(ValueError):
        await room.set_layer(2, None)


async def test_a_text_insert_draws_its_box(rooms: Rooms) -> None:
    room = await rooms.room()
    peer = await rooms.peer(GREEN).join(room, "a", "Ann")
    (tile,) = tile_rects(1, W, H)
    await peer.wait_for(shows([(tile, GREEN)]))
    insert = render_insert(W, H, "Breaking", "Hello", Image.new("RGB", (8, 8), RED))
    box, icon = insert.box, insert.icon
    assert icon is not None and box.top > H // 2  # the lower part
    await room.set_layer(1, insert.image)
    empty = (box.left + box.width * 3 // 4, box.top + box.height // 2)  # right of the short text
    # The box's dark fill at 84 % over green.
    picture = await peer.wait_for(all_of(at(*empty, (23, 50, 33)), shows([(icon, RED)]), at(W // 2, H // 4, GREEN)))
    title = picture[box.top + 4 : box.top + box.height // 2, icon.left + icon.width : box.left + box.width // 2]
    assert title.max() > 150  # white letters
    await room.set_layer(1, None)
    await peer.wait_for(at(*empty, GREEN))


@pytest.fixture(scope="module")
def blue_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_colour_clip(tmp_path_factory.mktemp("clips") / "blue.mp4", BLUE, 2.0, tone=1500)


async def test_a_playback_replaces_a_tile_and_is_heard_until_it_ends(rooms: Rooms, blue_clip: Path) -> None:
    room = await rooms.room()
    ann = await rooms.peer(RED, tone=440).join(room, "a", "Ann")
    bob = await rooms.peer(GREEN).join(room, "b", "Bob")
    left, right = tile_rects(2, W, H)
    await bob.wait_for(shows([(left, RED), (right, GREEN)]))

    spec = PlaybackSpec(str(blue_clip), name="Clip", replaces="a", audio=True, protocols="file")
    await room.play("p1", spec)
    with pytest.raises(McuConflictError):
        await room.play("p1", spec)
    await bob.wait_for(shows([(left, BLUE), (right, GREEN)]))
    assert room.podium()[0] == {"user_id": "a", "play_id": "p1", "left": 0, "top": 0, "width": 160, "height": 240}
    assert [p["play_id"] for p in room.playbacks()] == ["p1"]
    await asyncio.sleep(0.6)
    heard = bob.heard(0.5)
    assert tone_level(heard, 1500) > 100 and tone_level(ann.heard(0.5), 1500) > 100  # everyone hears it
    assert tone_level(heard, 440) > 100  # Ann's own voice still goes on

    for _ in range(60):  # two seconds of clip, then the tile is Ann's again
        if "playback_ended" in rooms.kinds("p1"):
            break
        await asyncio.sleep(0.1)
    assert rooms.kinds("p1") == ["playback_ended"]
    assert room.playbacks() == []
    await bob.wait_for(shows([(left, RED), (right, GREEN)]))


async def test_a_playback_of_its_own_is_a_new_spot_and_stops_on_request(rooms: Rooms, blue_clip: Path) -> None:
    room = await rooms.room()
    bob = await rooms.peer(GREEN).join(room, "b", "Bob")
    await room.play("loop", PlaybackSpec(str(blue_clip), loops=-1, protocols="file"))
    left, right = tile_rects(2, W, H)
    await bob.wait_for(shows([(left, GREEN), (right, BLUE)]))
    assert room.podium()[1]["user_id"] == "loop" and room.podium()[1]["play_id"] == "loop"
    room.set_layout(["loop"])  # a custom layout places it by its id: full screen
    await bob.wait_for(shows([(tile_rects(1, W, H)[0], BLUE)]))
    assert await room.stop_playback("loop") is True
    assert await room.stop_playback("loop") is False
    await bob.wait_for(shows([(tile_rects(1, W, H)[0], BACKGROUND)]))
    assert rooms.kinds("loop") == []  # stopped, not ended


async def test_a_file_that_does_not_play_is_refused(rooms: Rooms, tmp_path: Path) -> None:
    room = await rooms.room()
    with pytest.raises(McuSourceError):
        await room.play("x", PlaybackSpec(str(tmp_path / "missing.mp4"), protocols="file"))
    (tmp_path / "text.mp4").write_text("not a video")
    with pytest.raises(McuSourceError):
        await room.play("x", PlaybackSpec(str(tmp_path / "text.mp4"), protocols="file"))
    with pytest.raises(McuSourceError):  # only the protocols named
        await room.play("x", PlaybackSpec(f"file:{tmp_path / 'text.mp4'}"))
    assert room.playbacks() == []


async def test_a_muted_participant_is_left_out_of_the_mix(rooms: Rooms) -> None:
    room = await rooms.room()
    await rooms.peer(None, tone=440).join(room, "a", "Ann")
    bob = await rooms.peer(None, tone=660).join(room, "b", "Bob")
    cy = await rooms.peer(None).join(room, "c", "Cy")

    async def levels() -> tuple[float, float]:
        await asyncio.sleep(0.8)
        heard = cy.heard(0.5)
        assert len(heard) == 24000
        return tone_level(heard, 440), tone_level(heard, 660)

    for _ in range(50):
        if min(await levels()) > 100:
            break
    room.set_muted("a", True)
    assert room.muted == {"a"}
    ann, bob_level = await levels()
    assert bob_level > 100 and ann < bob_level / 50
    assert tone_level(bob.heard(0.5), 440) < 2  # nobody hears her
    room.set_muted("a", False)
    ann, bob_level = await levels()
    assert ann > 100 and bob_level > 100


def test_an_insert_without_icon_or_text_is_still_a_box() -> None:
    insert = render_insert(1280, 720, None, "x " * 500)
    assert insert.icon is None and insert.box.top > 360 and insert.box.height < 360
    assert Rect(40, insert.box.top, 1200, insert.box.height) == insert.box
