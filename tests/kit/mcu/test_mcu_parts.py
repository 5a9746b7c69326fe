"""The parts without peers: the grid, settings, ICE host choice, labels, the public surface."""

from __future__ import annotations

import aioice.ice
import numpy as np
import pytest
from av import VideoFrame

import mediaplane.kit.mcu as mcu
from mediaplane.kit.mcu import McuConfig, Rect, restrict_ice_hosts, tile_rects
from mediaplane.kit.mcu.compositor import Compositor, Tile
from mediaplane.kit.mcu.labels import initials, label_text
from mediaplane.kit.mcu.picture import rgb_to_yuv


@pytest.mark.parametrize(
    ("n", "grid"),
    [(1, (1, 1)), (2, (2, 1)), (3, (2, 2)), (4, (2, 2)), (5, (3, 2)), (6, (3, 2)), (7, (3, 3)), (9, (3, 3))],
)
def test_the_grid_for_each_count(n: int, grid: tuple[int, int]) -> None:
    rects = tile_rects(n, 1280, 960)
    cols, rows = grid
    assert len(rects) == n
    assert all(abs(r.width - 1280 / cols) <= 2 and abs(r.height - 960 / rows) <= 2 for r in rects)
    assert (rects[0].left, rects[0].top) == (0, 0)
    assert len({r.left for r in rects}) == min(n, cols)
    assert all(r.left % 2 == 0 and r.top % 2 == 0 and r.width % 2 == 0 and r.height % 2 == 0 for r in rects)


def test_the_grid_covers_the_canvas_and_stops_at_nine() -> None:
    rects = tile_rects(9, 320, 240)
    assert sum(r.width * r.height for r in rects) == 320 * 240
    assert tile_rects(12, 320, 240) == rects
    assert tile_rects(0, 320, 240) == []
    assert tile_rects(2, 1280, 960) == [Rect(0, 0, 640, 960), Rect(640, 0, 640, 960)]


@pytest.mark.parametrize(
    "options",
    [{"width": 321}, {"height": 8}, {"fps": 0}, {"background": "not-a-colour"}, {"video_bitrate": 10}],
)
def test_settings_that_cannot_work_are_refused(options: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        McuConfig(**options)  # type: ignore[arg-type]


def test_the_bitrate_follows_the_canvas() -> None:
    assert McuConfig().bitrate == 1_500_000
    assert McuConfig(width=640, height=480).bitrate == 375_000
    assert McuConfig(width=320, height=240).bitrate == 250_000
    assert McuConfig(video_bitrate=800_000).bitrate == 800_000


def test_restrict_ice_hosts_chooses_the_host_candidates() -> None:
    previous = restrict_ice_hosts(["127.0.0.1", "::1"])
    try:
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False) == ["127.0.0.1"]
        assert aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=True) == ["127.0.0.1", "::1"]
        with pytest.raises(ValueError):
            restrict_ice_hosts(["localhost"])
        assert restrict_ice_hosts(None) == ("127.0.0.1", "::1")
        assert "127.0.0.1" not in aioice.ice.get_host_addresses(use_ipv4=True, use_ipv6=False)
    finally:
        restrict_ice_hosts(previous)


def test_names_become_initials_on_narrow_tiles() -> None:
    assert initials("Jane van Doe") == "JD"
    assert initials("cher") == "C"
    assert initials("  ") == "?"
    assert label_text("Jane Doe", 640) == "Jane Doe"
    assert label_text("Jane Doe", 200) == "JD"


def test_a_frame_keeps_its_aspect_inside_its_tile() -> None:
    compositor = Compositor(320, 240, (0, 0, 0))
    wide = VideoFrame.from_ndarray(np.full((60, 160, 3), 255, dtype=np.uint8), format="rgb24")
    frame = compositor.compose([Tile(Rect(0, 0, 320, 240), "a", "A", wide)], show_names=False, pts=0)
    y = frame.to_ndarray()[:240]
    black, white = rgb_to_yuv((0, 0, 0))[0], rgb_to_yuv((255, 255, 255))[0]
    assert abs(int(y[120, 160]) - white) < 4  # 160x60 fits as 320x120, centred: rows 60..180
    assert abs(int(y[30, 160]) - black) < 4 and abs(int(y[210, 160]) - black) < 4


def test_the_public_surface() -> None:
    assert sorted(mcu.__all__) == sorted(
        [
            "BACKGROUND",
            "FOREGROUND",
            "MAX_SPOTS",
            "EventCallback",
            "EventKind",
            "Forwarding",
            "McuClosedError",
            "McuConfig",
            "McuConflictError",
            "McuError",
            "McuEvent",
            "McuFeed",
            "McuLayoutError",
            "McuNotFoundError",
            "McuOfferError",
            "McuRoom",
            "McuSourceError",
            "McuStats",
            "McuTap",
            "ParticipantInfo",
            "PlaybackInfo",
            "PlaybackSpec",
            "Rect",
            "Spot",
            "TextInsert",
            "presentation_rects",
            "render_insert",
            "restrict_ice_hosts",
            "tile_rects",
        ]
    )


def test_a_taps_reader_asks_for_keyframes_only_for_packets() -> None:
    asked: list[bool] = []
    packets = mcu.McuTap(asked.append, lambda tap: None)
    assert asked == [True]  # a packet tap starts on a keyframe
    packets.want_keyframe()  # its reader lost the picture
    assert asked == [True, False]  # a loss request: rate-limited by the room, unlike a start
    pictures = mcu.McuTap(asked.append, lambda tap: None, pictures=True)
    pictures.want_keyframe()  # decoded pictures need none
    assert asked == [True, False]
