"""Where tiles go on the canvas: the grid for a number of spots, and which participant takes each spot."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mediaplane.kit.mcu.errors import McuLayoutError

__all__ = [
    "MAX_PLACED_SPOTS",
    "MAX_SPOTS",
    "MAX_STRIP",
    "Rect",
    "arrange",
    "place",
    "presentation_rects",
    "snap_rects",
    "tile_rects",
]

MAX_SPOTS = 9
"""The largest grid (3x3). An auto layout with more participants shows the first 9 in join order."""
MAX_STRIP = 6
"""The most people shown in the strip under a screen share in an auto layout."""
MAX_PLACED_SPOTS = 16
"""Spots of a layout whose rectangles are given (a presentation layout, a pixel map)."""


@dataclass(frozen=True, slots=True)
class Rect:
    left: int
    top: int
    width: int
    height: int


def _grid(n: int) -> tuple[int, int]:
    """Columns and rows: 1 → 1x1, 2 → 2x1 (side by side), 3-4 → 2x2, 5-6 → 3x2, 7-9 → 3x3."""
    if n <= 1:
        return 1, 1
    if n == 2:
        return 2, 1
    if n <= 4:
        return 2, 2
    if n <= 6:
        return 3, 2
    return 3, 3


def _edges(size: int, parts: int) -> list[int]:
    # Even edges keep every tile aligned with the half-size chroma planes.
    return [size if i == parts else (size * i // parts) & ~1 for i in range(parts + 1)]


def tile_rects(n: int, width: int, height: int) -> list[Rect]:
    """The rectangles of `n` spots on a `width` x `height` canvas, row by row (at most 9)."""
    n = min(n, MAX_SPOTS)
    if n <= 0:
        return []
    cols, rows = _grid(n)
    xs, ys = _edges(width, cols), _edges(height, rows)
    rects = []
    for i in range(n):
        col, row = i % cols, i // cols
        rects.append(Rect(xs[col], ys[row], xs[col + 1] - xs[col], ys[row + 1] - ys[row]))
    return rects


def presentation_rects(n: int, width: int, height: int) -> list[Rect]:
    """A screen share's auto layout: the first spot over the top three quarters (1280x720 of 1280x960: a 16:9
    screen fills it), the others side by side in a strip below, centred, at least three columns wide so a
    lone camera is not stretched across (at most MAX_STRIP of them)."""
    if n <= 1:
        return tile_rects(n, width, height)
    others = min(n - 1, MAX_STRIP)
    strip = (height // 4) & ~1
    each = (width // max(3, others)) & ~1
    left = ((width - others * each) // 2) & ~1
    below = [Rect(left + i * each, height - strip, each, strip) for i in range(others)]
    return [Rect(0, 0, width, height - strip), *below]


def arrange(members: Sequence[str], custom: Sequence[str] | None) -> list[str]:
    """The participant id of each spot ("" for an empty one): the custom spots, or the members in join order."""
    if custom is None:
        return list(members[:MAX_SPOTS])
    return list(custom)


def check_custom(spots: Sequence[str]) -> list[str]:
    """A custom layout as given, or McuLayoutError when the grid cannot hold it."""
    if isinstance(spots, str):
        raise McuLayoutError("a custom layout is a list of participant ids, not one string")
    if len(spots) > MAX_SPOTS:
        raise McuLayoutError(f"a custom layout has at most {MAX_SPOTS} spots, not {len(spots)}")
    if not all(isinstance(spot, str) for spot in spots):
        raise McuLayoutError('every spot is a participant id or "" (an empty spot)')
    return list(spots)


def snap_rects(rects: Sequence[tuple[int, int, int, int] | Rect], width: int, height: int) -> list[Rect]:
    """Given rectangles (left, top, width, height) clipped to the canvas and put on even pixels (yuv420p)."""
    if len(rects) > MAX_PLACED_SPOTS:
        raise McuLayoutError(f"a layout has at most {MAX_PLACED_SPOTS} spots, not {len(rects)}")
    snapped = []
    for rect in rects:
        left, top, w, h = (rect.left, rect.top, rect.width, rect.height) if isinstance(rect, Rect) else rect
        x0, y0 = max(0, int(left)) & ~1, max(0, int(top)) & ~1
        x1, y1 = min(width, int(left) + int(w)) & ~1, min(height, int(top) + int(h)) & ~1
        if x1 - x0 < 2 or y1 - y0 < 2:
            raise McuLayoutError(f"spot {rect} is not on the {width}x{height} canvas")
        snapped.append(Rect(x0, y0, x1 - x0, y1 - y0))
    return snapped


def place(
    members: Sequence[str], custom: Sequence[str] | None, rects: Sequence[Rect] | None, width: int, height: int
) -> list[tuple[str, Rect]]:
    """Each spot's participant id ("" empty) and rectangle: on the given rectangles when there are some (the
    custom spots, or the members in join order, in them), else on the grid for the number of spots."""
    if rects is None:
        spots = arrange(members, custom)
        return list(zip(spots, tile_rects(len(spots), width, height), strict=True))
    spots = list(members) if custom is None else list(custom)
    spots = (spots + [""] * len(rects))[: len(rects)]
    return list(zip(spots, rects, strict=True))
