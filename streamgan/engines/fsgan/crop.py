"""Aligned square face crops, and pasting a crop back into its frame.

The learned stages work on a crop where the face always sits the same way (upright,
the same size, the same place), so the network spends its capacity on appearance,
not on where the face is. The crop is a similarity of the frame (no shear), set by
the landmarks: centred between the eyes and the mouth, rotated so the eye line is
level, scaled so the face's height is a fixed fraction of the side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from streamgan.engines.warp.mesh import Roi, even_roi
from streamgan.tracking import landmarks as lm_idx
from streamgan.tracking.landmarks import Landmarks

_RIGHT_EYE = list(lm_idx.RIGHT_EYE_UPPER + lm_idx.RIGHT_EYE_LOWER)
_LEFT_EYE = list(lm_idx.LEFT_EYE_UPPER + lm_idx.LEFT_EYE_LOWER)
_MOUTH = list(lm_idx.OUTER_LIP_RING)


@dataclass(frozen=True)
class FaceCrop:
    """Where a square crop of side ``size`` lies in a frame: ``matrix`` takes frame
    pixels to crop pixels (2x3, a similarity)."""

    matrix: NDArray[np.float64]
    size: int

    @classmethod
    def of(cls, lm: Landmarks, size: int, face_fraction: float = 0.55) -> FaceCrop:
        """The crop that puts the face of ``lm`` upright, its forehead-to-chin height
        ``face_fraction`` of the side, the eyes-mouth midpoint a little above centre."""
        right, left = lm[_RIGHT_EYE, :2].mean(0), lm[_LEFT_EYE, :2].mean(0)
        mouth = lm[_MOUTH, :2].mean(0)
        eyes = (right + left) / 2
        angle = float(np.arctan2(left[1] - right[1], left[0] - right[0]))
        height = max(float(lm_idx.face_height(lm)), 1.0)
        scale = face_fraction * size / height
        c, s = np.cos(-angle) * scale, np.sin(-angle) * scale
        rotation = np.array([[c, -s], [s, c]])
        centre = (eyes + mouth) / 2
        where = np.array([size / 2, size * 0.52])  # the face's middle, a bit low: hair
        offset = where - rotation @ centre
        return cls(np.column_stack([rotation, offset]), size)

    def points(self, xy: NDArray[np.float64]) -> NDArray[np.float64]:
        """Frame points (..., 2) in crop pixels."""
        return np.asarray(xy @ self.matrix[:, :2].T + self.matrix[:, 2])

    def cut(self, frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
        """The crop's pixels (``size`` x ``size``) sampled from ``frame``."""
        return np.asarray(cv2.warpAffine(frame, self.matrix, (self.size, self.size),
                                         flags=cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_REFLECT101), np.uint8)

    def place(self, crop: NDArray[Any], mask: NDArray[np.float32], width: int,
              height: int) -> tuple[Roi, NDArray[Any], NDArray[np.float32]] | None:
        """``crop`` (uint8 or float32) and ``mask`` (crop-sized, 0..1) moved back into a
        ``width`` x ``height`` frame: the crop's footprint (even corners, for yuv420p),
        the values there and their weight. None when the footprint misses the frame."""
        inverse = cv2.invertAffineTransform(self.matrix)
        corners = np.array([[0, 0], [self.size, 0], [0, self.size], [self.size, self.size]],
                           np.float64)
        roi = even_roi(corners @ inverse[:, :2].T + inverse[:, 2], width, height)
        if roi.width <= 0 or roi.height <= 0:
            return None
        shifted = inverse.copy()
        shifted[:, 2] -= (roi.x0, roi.y0)
        box = (roi.width, roi.height)
        pixels = cv2.warpAffine(crop, shifted, box, flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)
        alpha = cv2.warpAffine(mask.astype(np.float32), shifted, box, flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0.0)
        return roi, np.asarray(pixels, crop.dtype), np.asarray(alpha, np.float32)
