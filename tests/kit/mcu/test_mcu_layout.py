"""Pictures: each participant's colour in its tile, auto and custom layouts, names, placeholders."""

from __future__ import annotations

import asyncio

import pytest
from tests.fixtures.webrtc import BACKGROUND, BLUE, GREEN, RED, YELLOW, Picture, Rooms, colour_at, near, shows

from mediaplane.kit.mcu import McuLayoutError, Rect, tile_rects
from mediaplane.kit.mcu.labels import PLACEHOLDER_RGB
from mediaplane.kit.mcu.layout import MAX_STRIP, place, presentation_rects, snap_rects

pytestmark = pytest.mark.timeout(30)


def corner(rect: Rect) -> tuple[int, int]:
    """A point in the tile's upper left, away from centred initials and the bottom name label."""
    return rect.left + rect.width // 5, rect.top + rect.height // 5


def placeholder_at(rect: Rect) -> object:
    def check(picture: Picture) -> bool:
        return near(colour_at(picture, *corner(rect)), PLACEHOLDER_RGB, 20)

    return check


async def test_two_peers_side_by_side(rooms: Rooms) -> None:
    room = await rooms.room()
    a = await rooms.peer(RED).join(room, "a", "Ann")
    b = await rooms.peer(GREEN).join(room, "b", "Bob")
    left, right = tile_rects(2, 320, 240)
    for peer in (a, b):
        await peer.wait_for(shows([(left, RED), (right, GREEN)]))
    assert room.podium() == [
        {"user_id": "a", "left": 0, "top": 0, "width": 160, "height": 240},
        {"user_id": "b", "left": 160, "top": 0, "width": 160, "height": 240},
    ]
    for pid in ("a", "b"):
        assert rooms.kinds(pid)[:2] == ["connected", "first_frame"]
    info = {p["id"]: p for p in room.participants()}
    assert info["a"] == {
        "id": "a",
        "name": "Ann",
        "connected": True,
        "receiving_video": True,
        "receiving_audio": False,
        "stalled": False,
    }


async def test_three_peers_then_a_custom_layout(rooms: Rooms) -> None:
    room = await rooms.room()
    peers = [
        await rooms.peer(colour).join(room, pid, pid.upper()) for pid, colour in (("a", RED), ("b", GREEN), ("c", BLUE))
    ]
    cells = tile_rects(4, 320, 240)
    assert tile_rects(3, 320, 240) == cells[:3]
    auto = shows([(cells[0], RED), (cells[1], GREEN), (cells[2], BLUE), (cells[3], BACKGROUND)])
    for peer in peers:
        await peer.wait_for(auto)

    room.set_layout(["c", "", "a"])  # reordered, an empty spot, b left out
    assert [s["user_id"] for s in room.podium()] == ["c", "", "a"]
    custom = shows([(cells[0], BLUE), (cells[1], BACKGROUND), (cells[2], RED), (cells[3], BACKGROUND)])
    for peer in peers:
        await peer.wait_for(custom)

    room.set_layout(["b"])
    await peers[0].wait_for(shows([(tile_rects(1, 320, 240)[0], GREEN)]))
    room.set_layout(None)
    await peers[0].wait_for(auto)


async def test_names_are_drawn_and_can_be_hidden(rooms: Rooms) -> None:
    room = await rooms.room(show_names=True)
    peer = await rooms.peer(YELLOW).join(room, "a", "Ann Smith")
    (tile,) = tile_rects(1, 320, 240)
    label_spot = (tile.left + 10, tile.top + tile.height - 12)  # inside the label box, bottom left

    def labelled(picture: Picture) -> bool:
        return near(colour_at(picture, *tile_centre(tile)), YELLOW) and not near(
            colour_at(picture, *label_spot), YELLOW
        )

    def plain(picture: Picture) -> bool:
        return near(colour_at(picture, *tile_centre(tile)), YELLOW) and near(colour_at(picture, *label_spot), YELLOW)

    await peer.wait_for(labelled)
    room.set_show_names(False)
    await peer.wait_for(plain)
    room.set_show_names(True)
    await peer.wait_for(labelled)


def tile_centre(rect: Rect) -> tuple[int, int]:
    return rect.left + rect.width // 2, rect.top + rect.height // 2


async def test_a_peer_without_video_gets_a_placeholder(rooms: Rooms) -> None:
    room = await rooms.room()
    a = await rooms.peer(RED).join(room, "a", "Ann")
    await rooms.peer(None).join(room, "b", "Bob")
    left, right = tile_rects(2, 320, 240)
    await a.wait_for(lambda p: shows([(left, RED)])(p) and placeholder_at(right)(p))
    assert {p["id"]: p["receiving_video"] for p in room.participants()} == {"a": True, "b": False}


async def test_a_stalled_picture_is_replaced_then_comes_back(rooms: Rooms) -> None:
    room = await rooms.room(stall_seconds=0.5)
    a = await rooms.peer(RED).join(room, "a", "Ann")
    b = await rooms.peer(GREEN).join(room, "b", "Bob")
    left, right = tile_rects(2, 320, 240)
    await a.wait_for(shows([(left, RED), (right, GREEN)]))

    assert b.video is not None
    b.video.pause()
    await a.wait_for(lambda p: shows([(left, RED)])(p) and placeholder_at(right)(p))
    assert "stalled" in rooms.kinds("b")
    assert {p["id"]: p["stalled"] for p in room.participants()} == {"a": False, "b": True}

    b.video.resume()
    await a.wait_for(shows([(left, RED), (right, GREEN)]))
    assert rooms.kinds("b")[-1] == "resumed"


async def test_an_empty_room_keeps_composing(rooms: Rooms) -> None:
    room = await rooms.room()
    before = room.stats()["frames_composed"]
    await asyncio.sleep(0.5)
    assert room.stats()["frames_composed"] >= before + 3
    assert room.podium() == []


@pytest.mark.timeout(40)
async def test_the_full_size_canvas(rooms: Rooms) -> None:
    room = await rooms.room(width=1280, height=960, fps=10)
    a = await rooms.peer(RED).join(room, "a", "Ann")
    b = await rooms.peer(BLUE).join(room, "b", "Bob")
    left, right = tile_rects(2, 1280, 960)
    picture = await a.wait_for(shows([(left, RED), (right, BLUE)]), within=20)
    assert picture.shape == (960, 1280, 3)
    await b.wait_for(shows([(left, RED), (right, BLUE)]), within=20)


def test_given_rectangles_are_snapped_to_even_pixels_and_clipped() -> None:
    assert snap_rects([(1, 3, 101, 51), (300, 200, 100, 100)], 320, 240) == [
        Rect(0, 2, 102, 52),
        Rect(300, 200, 20, 40),
    ]
    with pytest.raises(McuLayoutError):
        snap_rects([(400, 0, 10, 10)], 320, 240)
    with pytest.raises(McuLayoutError):
        snap_rects([(0, 0, 2, 2)] * 17, 320, 240)


def test_place_fills_given_rectangles_in_join_order_or_as_the_podium_says() -> None:
    rects = [Rect(0, 0, 100, 100), Rect(100, 0, 100, 100)]
    assert place(["a", "b", "c"], None, rects, 320, 240) == [("a", rects[0]), ("b", rects[1])]
    assert place(["a", "b"], ["b"], rects, 320, 240) == [("b", rects[0]), ("", rects[1])]
    grid = tile_rects(2, 320, 240)
    assert place(["a", "b"], None, None, 320, 240) == [("a", grid[0]), ("b", grid[1])]


def test_a_screen_share_takes_the_top_and_the_people_a_centred_strip() -> None:
    assert presentation_rects(1, 1280, 960) == [Rect(0, 0, 1280, 960)]
    screen, *people = presentation_rects(3, 1280, 960)
    assert screen == Rect(0, 0, 1280, 720)  # a 16:9 screen fills it
    assert [(r.top, r.width, r.height) for r in people] == [(720, 426, 240)] * 2
    assert people[0].left == 1280 - (people[1].left + people[1].width)  # centred
    many = presentation_rects(12, 1280, 960)
    assert len(many) == 1 + MAX_STRIP and many[-1].left + many[-1].width <= 1280
    assert all(r.left % 2 == 0 and r.width % 2 == 0 for r in many)  # chroma-aligned
