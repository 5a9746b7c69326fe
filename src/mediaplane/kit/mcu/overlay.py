"""Layers over and under the tiles: a picture at the canvas size, prepared once so that drawing it on every frame
costs one multiply-add per pixel, and text inserts (an icon, a title and a message in a box at the lower part of
the picture) rendered into such a picture.

A foreground layer keeps its alpha: it is cropped to where it is not transparent and premultiplied. A background
layer is flattened on the room's background colour (it has no transparency: the tiles go over it)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from mediaplane.kit.mcu.layout import Rect
from mediaplane.kit.mcu.picture import Canvas, Planes, rgb_image_to_planes

__all__ = [
    "BACKGROUND",
    "FOREGROUND",
    "Foreground",
    "TextInsert",
    "prepare_background",
    "prepare_foreground",
    "render_insert",
    "to_canvas",
]

FOREGROUND = 1
BACKGROUND = -1
INSERT_FILL = (20, 22, 28, 215)
TITLE_RGB = (255, 255, 255, 255)
TEXT_RGB = (225, 228, 235, 255)
MAX_INSERT_LINES = 4

Weights = npt.NDArray[np.uint16]


@dataclass(frozen=True, slots=True)
class Foreground:
    """An image with alpha, cropped to its visible part (even corners) and premultiplied: drawing it is
    ``canvas = (canvas * keep + premultiplied) >> 8`` on that part only."""

    left: int
    top: int
    y: Weights
    y_keep: Weights
    u: Weights
    v: Weights
    uv_keep: Weights

    def draw(self, canvas: Canvas) -> None:
        h, w = self.y.shape
        top, left = self.top, self.left
        _apply(canvas.y[top : top + h, left : left + w], self.y, self.y_keep)
        half = (slice(top // 2, (top + h) // 2), slice(left // 2, (left + w) // 2))
        _apply(canvas.u[half], self.u, self.uv_keep)
        _apply(canvas.v[half], self.v, self.uv_keep)


def _apply(under: npt.NDArray[np.uint8], premultiplied: Weights, keep: Weights) -> None:
    mixed = under.astype(np.uint16)
    mixed *= keep
    mixed += premultiplied  # at most 255 * 256: no overflow
    mixed >>= 8
    under[...] = mixed


def to_canvas(image: Image.Image, width: int, height: int) -> Image.Image:
    """The image as RGBA at the canvas size, stretched when its size differs (as eyeson does)."""
    rgba = image if image.mode == "RGBA" else image.convert("RGBA")
    if rgba.size != (width, height):
        rgba = rgba.resize((width, height), Image.Resampling.BILINEAR)
    return rgba


def prepare_foreground(image: Image.Image, width: int, height: int) -> Foreground | None:
    """A foreground layer of the image (None when it is transparent all over)."""
    rgba = np.asarray(to_canvas(image, width, height), dtype=np.uint8)
    rows = np.flatnonzero(rgba[..., 3].any(axis=1))
    cols = np.flatnonzero(rgba[..., 3].any(axis=0))
    if rows.size == 0:
        return None
    top, left = int(rows[0]) & ~1, int(cols[0]) & ~1
    bottom, right = (int(rows[-1]) + 2) & ~1, (int(cols[-1]) + 2) & ~1
    crop = rgba[top:bottom, left:right]
    planes = rgb_image_to_planes(np.ascontiguousarray(crop[..., :3]))
    alpha = (crop[..., 3].astype(np.uint16) * 256 + 127) // 255  # 0..256
    h, w = alpha.shape
    half = alpha.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3)).round().astype(np.uint16)
    return Foreground(
        left=left,
        top=top,
        y=planes.y.astype(np.uint16) * alpha,
        y_keep=256 - alpha,
        u=planes.u.astype(np.uint16) * half,
        v=planes.v.astype(np.uint16) * half,
        uv_keep=256 - half,
    )


def prepare_background(image: Image.Image, width: int, height: int, fill: tuple[int, int, int]) -> Planes:
    """A background layer of the image: flattened on `fill` (where it is transparent the fill shows)."""
    flat = Image.new("RGBA", (width, height), (*fill, 255))
    flat.alpha_composite(to_canvas(image, width, height))
    return rgb_image_to_planes(np.asarray(flat.convert("RGB"), dtype=np.uint8))


# -- text inserts


@dataclass(frozen=True, slots=True)
class TextInsert:
    """A rendered text insert: the picture (RGBA, canvas size, transparent outside the box), the box, and where
    the icon went in it."""

    image: Image.Image
    box: Rect
    icon: Rect | None = None


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _even(n: int) -> int:
    return n + (n & 1)


def _fit_line(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, room: int) -> str:
    if font.getlength(text) <= room:
        return text
    while len(text) > 1 and font.getlength(text + "…") > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _wrap(text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, room: int, max_lines: int) -> list[str]:
    """Words filled into lines of at most `room` pixels; past `max_lines` the last one ends with "…"."""
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= room:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], " ".join(lines[max_lines - 1 :])]
    return [_fit_line(line, font, room) for line in lines]


def render_insert(
    width: int, height: int, title: str | None, content: str | None, icon: Image.Image | None = None
) -> TextInsert:
    """A text insert: a dark, slightly translucent box across the lower part of the picture, the icon on its
    left, the title (larger) over the message, which wraps onto at most four lines."""
    margin = _even(max(4, width // 32))
    title_size = max(12, height // 22)
    text_size = max(10, height // 30)
    pad = _even(max(4, text_size // 2))
    gap = max(2, text_size // 4)
    title_font, text_font = _font(title_size), _font(text_size)
    box_w = width - 2 * margin
    icon_size = 0
    if icon is not None:
        icon_size = _even(title_size + gap + 2 * (text_size + gap))
    text_left = pad + (icon_size + pad if icon_size else 0)
    room = max(8, box_w - text_left - pad)
    title_line = _fit_line(" ".join(title.split()), title_font, room) if title else ""
    lines = _wrap(content, text_font, room, MAX_INSERT_LINES) if content else []
    text_h = (title_size + gap if title_line else 0) + len(lines) * (text_size + gap)
    box_h = min(_even(max(icon_size, text_h) + 2 * pad), height - 2 * margin)
    box = Rect(margin, height - margin - box_h, box_w, box_h)

    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    radius = min(pad, box_h // 4)
    draw.rounded_rectangle((box.left, box.top, box.left + box_w - 1, box.top + box_h - 1), radius, fill=INSERT_FILL)
    icon_rect = None
    if icon is not None and icon_size:
        icon_rect = Rect(box.left + pad, box.top + (box_h - icon_size) // 2, icon_size, icon_size)
        scaled = icon.convert("RGBA").resize((icon_size, icon_size), Image.Resampling.BILINEAR)
        image.alpha_composite(scaled, (icon_rect.left, icon_rect.top))
    x, y = box.left + text_left, box.top + pad
    if title_line:
        draw.text((x, y), title_line, font=title_font, fill=TITLE_RGB)
        y += title_size + gap
    for line in lines:
        if y + text_size > box.top + box_h - pad // 2:
            break
        draw.text((x, y), line, font=text_font, fill=TEXT_RGB)
        y += text_size + gap
    return TextInsert(image, box, icon_rect)
