"""One composite picture from the latest frame of each participant (runs in the room's video thread)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from av import VideoFrame

from mediaplane.kit.mcu.labels import Labels, label_margin
from mediaplane.kit.mcu.layout import Rect
from mediaplane.kit.mcu.overlay import Foreground
from mediaplane.kit.mcu.picture import Canvas, Planes, fit, rgb_to_yuv, scale_to

__all__ = ["Compositor", "Tile"]


@dataclass(frozen=True, slots=True)
class Tile:
    """One spot as the event loop saw it: who is there and their latest live frame (None: placeholder)."""

    rect: Rect
    participant_id: str
    name: str
    frame: VideoFrame | None


@dataclass(slots=True)
class _Scaled:
    frame: VideoFrame
    rect: Rect
    planes: Planes


class Compositor:
    """Draws tiles on a canvas of fixed size. Not thread-safe: one thread composes at a time."""

    def __init__(self, width: int, height: int, background: tuple[int, int, int]) -> None:
        self.canvas = Canvas(width, height)
        self.background = rgb_to_yuv(background)
        self.labels = Labels()
        self._scaled: dict[str, _Scaled] = {}

    def compose(
        self,
        tiles: Sequence[Tile],
        show_names: bool,
        pts: int,
        *,
        background: Planes | None = None,
        foreground: Foreground | None = None,
    ) -> VideoFrame:
        """The picture: the background colour (or a background layer of the canvas size), the tiles, then a
        foreground layer over everything."""
        if background is None:
            self.canvas.fill(self.background)
        else:
            self.canvas.paste(background, 0, 0)
        for tile in tiles:
            self._draw(tile, show_names)
        if foreground is not None:
            foreground.draw(self.canvas)
        shown = {tile.participant_id for tile in tiles}
        for gone in self._scaled.keys() - shown:
            del self._scaled[gone]
        return self.canvas.frame(pts)

    def _draw(self, tile: Tile, show_names: bool) -> None:
        r = tile.rect
        if tile.frame is None:
            self._scaled.pop(tile.participant_id, None)
            self.canvas.paste(self.labels.placeholder(tile.name, r.width, r.height), r.left, r.top)
        else:
            planes = self._scale(tile)
            left = r.left + ((r.width - planes.width) // 2 & ~1)
            top = r.top + ((r.height - planes.height) // 2 & ~1)
            self.canvas.paste(planes, left, top)
        if show_names:
            label = self.labels.label(tile.name, r.width, r.height)
            margin = label_margin(r.height)
            top = r.top + r.height - margin - label.planes.height
            if top >= r.top:
                self.canvas.blend(label, r.left + margin, top)

    def _scale(self, tile: Tile) -> Planes:
        """The tile's frame fitted into its rectangle, scaled once per new frame."""
        assert tile.frame is not None
        cached = self._scaled.get(tile.participant_id)
        if cached is not None and cached.frame is tile.frame and cached.rect == tile.rect:
            return cached.planes
        w, h = fit(tile.frame.width, tile.frame.height, tile.rect.width, tile.rect.height)
        planes = scale_to(tile.frame, w, h)
        self._scaled[tile.participant_id] = _Scaled(tile.frame, tile.rect, planes)
        return planes
