"""yuv420p pictures as numpy arrays, the format encoders take.

Engines render straight into yuv420p so that no RGB-to-YUV conversion runs per
frame on the whole picture; conversions go through swscale (PyAV) so they match
what the encoder and decoder assume (BT.601, limited range).
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

Yuv420 = NDArray[np.uint8]
"""A ``(H * 3 // 2, W)`` uint8 array: the Y plane, then U and V (each ``H/2 x W/2``)."""


def rgb_to_yuv420(rgb: NDArray[np.uint8]) -> Yuv420:
    """RGB (even width and height) to a yuv420p array."""
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2YUV_I420), np.uint8)


def yuv420_to_rgb(yuv: Yuv420) -> NDArray[np.uint8]:
    """A yuv420p array back to RGB."""
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(yuv), cv2.COLOR_YUV2RGB_I420), np.uint8)


def planes(yuv: Yuv420) -> tuple[NDArray[np.uint8], NDArray[np.uint8], NDArray[np.uint8]]:
    """Views of the Y, U and V planes of a yuv420p array (writes go through)."""
    height = yuv.shape[0] * 2 // 3
    width = yuv.shape[1]
    y = yuv[:height]
    chroma = yuv[height:].reshape(2, height // 2, width // 2)
    return y, chroma[0], chroma[1]
