"""The yuv420p canvas as numpy planes: fill, paste a picture, blend an overlay with its alpha."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import numpy.typing as npt
from av import VideoFrame

__all__ = ["Canvas", "Overlay", "Planes", "fit", "planes_of", "rgb_to_yuv", "scale_to"]

Plane = npt.NDArray[np.uint8]
VIDEO_TIME_BASE = Fraction(1, 90000)


def rgb_to_yuv(rgb: tuple[int, int, int]) -> tuple[int, int, int]:
    """BT.601 limited range, what libvpx and browsers assume for untagged VP8."""
    r, g, b = rgb
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return round(y), round(u), round(v)


def rgb_image_to_planes(rgb: npt.NDArray[np.uint8]) -> Planes:
    """An (h, w, 3) RGB array with even sides as yuv420p planes (chroma averaged over 2x2)."""
    f = rgb.astype(np.float32)
    r, g, b = f[..., 0], f[..., 1], f[..., 2]
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255
    return Planes(_u8(y), _u8(_halve(u)), _u8(_halve(v)))


def _halve(a: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    h, w = a.shape
    return a.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3), dtype=np.float32)


def _u8(a: npt.NDArray[np.float32]) -> Plane:
    return np.clip(np.rint(a), 0, 255).astype(np.uint8)


@dataclass(frozen=True, slots=True)
class Planes:
    """A yuv420p picture: y is (h, w), u and v are (h/2, w/2)."""

    y: Plane
    u: Plane
    v: Plane

    @property
    def width(self) -> int:
        return int(self.y.shape[1])

    @property
    def height(self) -> int:
        return int(self.y.shape[0])


@dataclass(frozen=True, slots=True)
class Overlay:
    """A picture with alpha (0..256 at full and at half resolution) to blend over the canvas."""

    planes: Planes
    alpha: npt.NDArray[np.uint16]
    alpha_half: npt.NDArray[np.uint16]


def planes_of(frame: VideoFrame) -> Planes:
    """The planes of a yuv420p frame with even sides (copied, so the frame can go)."""
    w, h = frame.width, frame.height
    flat: Plane = np.asarray(frame.to_ndarray(), dtype=np.uint8).reshape(-1)
    quarter = (w // 2) * (h // 2)
    y = flat[: w * h].reshape(h, w)
    u = flat[w * h : w * h + quarter].reshape(h // 2, w // 2)
    v = flat[w * h + quarter : w * h + 2 * quarter].reshape(h // 2, w // 2)
    return Planes(y, u, v)


def fit(width: int, height: int, box_width: int, box_height: int) -> tuple[int, int]:
    """The largest even size with the aspect of width x height that fits in the box."""
    scale = min(box_width / width, box_height / height)
    return max(2, int(width * scale) & ~1), max(2, int(height * scale) & ~1)


def scale_to(frame: VideoFrame, width: int, height: int) -> Planes:
    """The frame scaled to width x height (even) as yuv420p planes; libswscale, outside the GIL."""
    if frame.format.name == "yuv420p" and (frame.width, frame.height) == (width, height):
        return planes_of(frame)
    return planes_of(frame.reformat(width=width, height=height, format="yuv420p", interpolation="BILINEAR"))


class Canvas:
    """The room's picture, one buffer laid out as yuv420p so a frame is made from it in one copy."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        size = width * height
        self._buffer = np.zeros(size * 3 // 2, dtype=np.uint8)
        quarter = size // 4
        self.y = self._buffer[:size].reshape(height, width)
        self.u = self._buffer[size : size + quarter].reshape(height // 2, width // 2)
        self.v = self._buffer[size + quarter :].reshape(height // 2, width // 2)

    def fill(self, yuv: tuple[int, int, int], left: int = 0, top: int = 0, width: int = 0, height: int = 0) -> None:
        """Fills a rectangle with even corners (the whole canvas by default)."""
        width, height = width or self.width, height or self.height
        self.y[top : top + height, left : left + width] = yuv[0]
        self.u[top // 2 : (top + height) // 2, left // 2 : (left + width) // 2] = yuv[1]
        self.v[top // 2 : (top + height) // 2, left // 2 : (left + width) // 2] = yuv[2]

    def paste(self, planes: Planes, left: int, top: int) -> None:
        """Copies a picture with its top-left corner at (left, top), both even."""
        h, w = planes.y.shape
        self.y[top : top + h, left : left + w] = planes.y
        self.u[top // 2 : (top + h) // 2, left // 2 : (left + w) // 2] = planes.u
        self.v[top // 2 : (top + h) // 2, left // 2 : (left + w) // 2] = planes.v

    def blend(self, overlay: Overlay, left: int, top: int) -> None:
        """Blends an overlay with its top-left corner at (left, top), both even."""
        p = overlay.planes
        h, w = p.y.shape
        _mix(self.y[top : top + h, left : left + w], p.y, overlay.alpha)
        half = (slice(top // 2, (top + h) // 2), slice(left // 2, (left + w) // 2))
        _mix(self.u[half], p.u, overlay.alpha_half)
        _mix(self.v[half], p.v, overlay.alpha_half)

    def frame(self, pts: int) -> VideoFrame:
        frame = VideoFrame.from_ndarray(self._buffer.reshape(self.height * 3 // 2, self.width), format="yuv420p")
        frame.pts = pts
        frame.time_base = VIDEO_TIME_BASE
        return frame


def _mix(under: Plane, over: Plane, alpha: npt.NDArray[np.uint16]) -> None:
    mixed = (under.astype(np.uint16) * (256 - alpha) + over.astype(np.uint16) * alpha) >> 8
    under[...] = mixed.astype(np.uint8)
