"""Landmarks as pictures the network can read: one boundary heatmap per facial part.

FSGAN feeds one heatmap per landmark (98 channels); drawing each part's contour
instead (the boundary maps of Wu et al., "Look at Boundary", 2018) carries the same
geometry in a handful of channels, which matters on a CPU. Both eyes share channels
and so do both brows, so a mirrored crop is a valid input: training flips pictures.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from streamgan.tracking import landmarks as L

_RIGHT_EYE_RING = (L.RIGHT_EYE_CORNERS[0], *L.RIGHT_EYE_UPPER, L.RIGHT_EYE_CORNERS[1],
                   *L.RIGHT_EYE_LOWER[::-1])
_LEFT_EYE_RING = (L.LEFT_EYE_CORNERS[0], *L.LEFT_EYE_UPPER, L.LEFT_EYE_CORNERS[1],
                  *L.LEFT_EYE_LOWER[::-1])
_NOSE = (168, 6, 197, 195, 5, 4, 1)
_NOSTRILS = (98, 97, 2, 326, 327)

GROUPS: dict[str, tuple[tuple[tuple[int, ...], bool], ...]] = {
    "oval": ((L.FACE_OVAL, True),),
    "brows": ((L.RIGHT_EYEBROW[:5], False), (L.LEFT_EYEBROW[:5], False)),
    "nose": ((_NOSE, False), (_NOSTRILS, False)),
    "eyes": ((_RIGHT_EYE_RING, True), (_LEFT_EYE_RING, True)),
    "irises": ((L.RIGHT_IRIS[1:], True), (L.LEFT_IRIS[1:], True)),
    "outer_lips": ((L.OUTER_LIP_RING, True),),
    "upper_inner_lip": (((L.INNER_LIP_CORNERS[0], *L.INNER_LIP_UPPER,
                          L.INNER_LIP_CORNERS[1]), False),),
    "lower_inner_lip": (((L.INNER_LIP_CORNERS[0], *L.INNER_LIP_LOWER,
                          L.INNER_LIP_CORNERS[1]), False),),
}
"""Each channel: the polylines drawn into it, and whether each is closed."""


def boundary_maps(points: NDArray[np.float64], size: int) -> NDArray[np.float32]:
    """(len(GROUPS), size, size) maps in 0..1 of ``points`` (landmarks in crop pixels):
    anti-aliased contours, blurred by about a pixel per 64 of the side."""
    shift = 4  # sub-pixel precision of cv2's drawing
    scale = float(1 << shift)
    sigma = max(0.6, size / 96)
    maps = np.zeros((len(GROUPS), size, size), np.float32)
    for channel, lines in zip(maps, GROUPS.values(), strict=True):
        canvas = np.zeros((size, size), np.uint8)
        for indices, closed in lines:
            xy = np.round(points[list(indices), :2] * scale).astype(np.int32)
            cv2.polylines(canvas, [xy], closed, 255, 1, cv2.LINE_AA, shift)
        blurred = cv2.GaussianBlur(canvas.astype(np.float32) / 255.0, (0, 0), sigma)
        channel[:] = blurred / max(float(blurred.max()), 1e-6) if blurred.max() > 0 else 0.0
    return maps
