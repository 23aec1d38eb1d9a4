"""Turning decoded PyAV pictures into upright RGB arrays of one fixed size.

Phones store portrait video as landscape pictures plus a display matrix; face
trackers need the upright image. Scaling and the pixel-format conversion are
done in one swscale pass (the expensive part), rotation afterwards with numpy
(a cheap copy), and every frame comes out the same size even if the stream
changes resolution mid-way, so downstream code can rely on ``VideoInfo``.
"""

from __future__ import annotations

from typing import cast

import av
import numpy as np

from streamgan.media.frame import RgbImage


def normalize_rotation(degrees: float) -> int:
    """Snap a display-matrix angle to 0/90/180/270 (counter-clockwise, as PyAV reports it)."""
    return int(round(degrees / 90.0)) % 4 * 90


def upright_size(width: int, height: int, rotation: int) -> tuple[int, int]:
    """(width, height) of a ``width`` x ``height`` picture once rotated by ``rotation``."""
    return (height, width) if rotation in (90, 270) else (width, height)


def fit_max_side(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Size that fits ``max_side`` keeping the aspect ratio; even, never larger than the input.

    Without downscaling the size is returned unchanged (even or not): only a
    rescale is free to round, the native size is kept exactly.
    """
    if max_side is None or max(width, height) <= max_side:
        return width, height
    scale = max_side / max(width, height)

    def even(x: float) -> int:
        size = max(2, round(x / 2) * 2)  # nearest even size keeps the aspect best...
        return size - 2 if size > max_side else size  # ...unless that overshoots

    return even(width * scale), even(height * scale)


class RgbConverter:
    """Converts decoded frames to upright ``height x width x 3`` uint8 RGB.

    ``rotation`` is PyAV's ``VideoFrame.rotation``: the counter-clockwise angle
    that turns the stored picture upright, which is exactly what ``np.rot90``
    with ``k = rotation / 90`` does.
    """

    def __init__(
        self, coded_width: int, coded_height: int, rotation: int, max_side: int | None
    ) -> None:
        self.rotation = normalize_rotation(rotation)
        up_w, up_h = upright_size(coded_width, coded_height, self.rotation)
        self.width, self.height = fit_max_side(up_w, up_h, max_side)
        # The size to scale to before rotating, i.e. in the stored orientation.
        self._stored_size = upright_size(self.width, self.height, self.rotation)
        self._k = self.rotation // 90

    def __call__(self, frame: av.VideoFrame) -> RgbImage:
        """One swscale pass (scale + convert) when needed, then rotate."""
        stored_w, stored_h = self._stored_size
        if (frame.width, frame.height) == (stored_w, stored_h):
            rgb = cast(RgbImage, frame.to_ndarray(format="rgb24"))
        else:
            scaled = frame.reformat(
                width=stored_w, height=stored_h, format="rgb24", interpolation="AREA"
            )
            rgb = cast(RgbImage, scaled.to_ndarray())
        if self._k:
            rgb = np.ascontiguousarray(np.rot90(rgb, self._k))
        return rgb
