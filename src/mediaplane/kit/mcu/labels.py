"""Names drawn on tiles, and the placeholder tile of someone without a live picture; rendered once, cached."""

from __future__ import annotations

from typing import TypeVar

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from mediaplane.kit.mcu.picture import Overlay, Planes, rgb_image_to_planes

__all__ = ["PLACEHOLDER_RGB", "Labels", "initials", "label_margin", "label_text"]

PLACEHOLDER_RGB = (44, 48, 58)
LABEL_RGB = (20, 20, 20)
TEXT_RGB = (255, 255, 255)
LABEL_ALPHA = 0.7
INITIALS_BELOW = 250
"""Tiles narrower than this (pixels) show initials instead of the whole name, as eyeson does."""
CACHE_SIZE = 256

K = TypeVar("K")
V = TypeVar("V")


def initials(name: str) -> str:
    words = name.split()
    if not words:
        return "?"
    picked = words[0][0] + (words[-1][0] if len(words) > 1 else "")
    return picked.upper()


def label_text(name: str, tile_width: int) -> str:
    return name if tile_width >= INITIALS_BELOW else initials(name)


def label_margin(tile_height: int) -> int:
    """Space between a label and the tile's bottom-left corner (even)."""
    return max(2, tile_height // 40) & ~1


def _even(n: int) -> int:
    return n + (n & 1)


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


class Labels:
    """Caches of rendered name labels and placeholder tiles (used from the compositing thread only)."""

    def __init__(self) -> None:
        self._labels: dict[tuple[str, int, int], Overlay] = {}
        self._placeholders: dict[tuple[str, int, int], Planes] = {}

    def label(self, name: str, tile_width: int, tile_height: int) -> Overlay:
        """The name label of a tile: white text on a translucent dark box, sized to the tile."""
        key = (name, tile_width, tile_height)
        if (cached := self._labels.get(key)) is None:
            cached = _render_label(label_text(name, tile_width), tile_width, tile_height)
            _remember(self._labels, key, cached)
        return cached

    def placeholder(self, name: str, width: int, height: int) -> Planes:
        """A dark tile with the participant's initials in the middle."""
        key = (name, width, height)
        if (cached := self._placeholders.get(key)) is None:
            cached = _render_placeholder(initials(name), width, height)
            _remember(self._placeholders, key, cached)
        return cached


def _remember(cache: dict[K, V], key: K, value: V) -> None:
    if len(cache) >= CACHE_SIZE:
        cache.clear()  # names and tile sizes change rarely; starting over is simpler than LRU bookkeeping
    cache[key] = value


def _render_label(text: str, tile_width: int, tile_height: int) -> Overlay:
    size = max(10, min(32, tile_height // 14))
    font = _font(size)
    pad = max(2, size // 4)
    room = (tile_width - 2 * label_margin(tile_height)) & ~1
    while len(text) > 1 and font.getlength(text) + 2 * pad > room:
        text = text[:-2] + "…"
    box_w = max(2, min(_even(int(font.getlength(text)) + 2 * pad), room))
    box_h = _even(size + 2 * pad)
    image = Image.new("RGB", (box_w, box_h), LABEL_RGB)
    mask = Image.new("L", (box_w, box_h), round(255 * LABEL_ALPHA))
    ImageDraw.Draw(image).text((pad, pad), text, font=font, fill=TEXT_RGB)
    ImageDraw.Draw(mask).text((pad, pad), text, font=font, fill=255)
    alpha = (np.asarray(mask, dtype=np.uint16) * 256 + 127) // 255
    half = alpha.reshape(box_h // 2, 2, box_w // 2, 2).mean(axis=(1, 3)).astype(np.uint16)
    return Overlay(rgb_image_to_planes(np.asarray(image)), alpha, half)


def _render_placeholder(text: str, width: int, height: int) -> Planes:
    image = Image.new("RGB", (width, height), PLACEHOLDER_RGB)
    size = max(10, min(width, height) // 4)
    draw = ImageDraw.Draw(image)
    draw.text((width / 2, height / 2), text, font=_font(size), fill=(200, 204, 214), anchor="mm")
    return rgb_image_to_planes(np.asarray(image))
