"""Mouth interior: what shows when the target opens its mouth wider than its photo.

A warp alone would stretch the lips across the gap. Instead the driver's own mouth
interior (teeth, tongue, cavity) is mapped onto the target's new inner-lip opening
with an affine fit, colour-matched to the target's skin, and feathered in.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from streamgan.engines.warp.mesh import Roi, even_roi
from streamgan.tracking.landmarks import INNER_LIP_RING, Landmarks

_RING = np.array(INNER_LIP_RING)
_SKIN = np.array([50, 280, 205, 425, 18, 200])
"""Cheek and chin points whose surroundings give a face's skin colour."""


def skin_colour(rgb: NDArray[np.uint8], lm: Landmarks) -> NDArray[np.float64]:
    """Mean RGB of small patches around cheek and chin landmarks."""
    height, width = rgb.shape[:2]
    radius = max(2, int(np.linalg.norm(lm[33, :2] - lm[263, :2]) * 0.04))
    samples = []
    for x, y in lm[_SKIN, :2].round().astype(int):
        x0, x1 = np.clip([x - radius, x + radius + 1], 0, width)
        y0, y1 = np.clip([y - radius, y + radius + 1], 0, height)
        if x1 > x0 and y1 > y0:
            samples.append(rgb[y0:y1, x0:x1].reshape(-1, 3))
    if not samples:
        return np.full(3, 128.0)
    return np.asarray(np.concatenate(samples).mean(0), np.float64)


def opening_area(lm: Landmarks) -> float:
    """Area of the inner-lip polygon in pixels."""
    return float(cv2.contourArea(lm[_RING, :2].astype(np.float32)))


class MouthFiller:
    """Renders the mouth interior patch for one output frame."""

    def __init__(self, target_skin: NDArray[np.float64], feather: float = 1.2,
                 tint: float = 0.25) -> None:
        self.target_skin = target_skin
        self.feather = feather
        self.tint = tint

    def render(self, driver_rgb: NDArray[np.uint8], driver_lm: Landmarks, out_lm: Landmarks,
               size: tuple[int, int]) -> tuple[Roi, NDArray[np.uint8], NDArray[np.float32]] | None:
        """The interior as (roi, rgb patch, alpha patch in 0..1) or None if the mouth is shut.

        ``out_lm`` are the target's landmarks in the output frame, ``size`` its (w, h).
        """
        ring_out = out_lm[_RING, :2]
        if cv2.contourArea(ring_out.astype(np.float32)) < 4.0:
            return None
        pad = 4 + 2 * self.feather
        roi = even_roi(np.vstack([ring_out.min(0) - pad, ring_out.max(0) + pad]), *size)
        if roi.width < 4 or roi.height < 4:
            return None
        ring_drv = driver_lm[_RING, :2].astype(np.float32)
        local = (ring_out - (roi.x0, roi.y0)).astype(np.float32)
        affine, _ = cv2.estimateAffine2D(ring_drv, local, method=cv2.LMEDS)
        if affine is None:
            return None
        patch = cv2.warpAffine(driver_rgb, affine, (roi.width, roi.height),
                               flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        patch = self._match(patch, skin_colour(driver_rgb, driver_lm))
        mask = np.zeros((roi.height, roi.width), np.float32)
        cv2.fillPoly(mask, [np.round(local * 4).astype(np.int32)], 1.0, cv2.LINE_AA, shift=2)
        if self.feather > 0:
            mask = cv2.GaussianBlur(mask, (0, 0), self.feather)
        return roi, patch, mask

    def _match(self, patch: NDArray[np.uint8], driver_skin: NDArray[np.float64]
               ) -> NDArray[np.uint8]:
        """The driver's mouth lit like the target's face.

        Mostly a brightness match: the full per-channel skin ratio would tint teeth
        the colour of the target's skin, so only a little of the tint is taken.
        """
        luma = np.array([0.299, 0.587, 0.114])
        brightness = float(self.target_skin @ luma) / max(float(driver_skin @ luma), 1.0)
        tint = (self.target_skin / np.maximum(driver_skin, 1.0)) / max(brightness, 1e-6)
        gain = np.clip(brightness, 0.5, 2.0) * np.clip(tint, 0.5, 2.0) ** self.tint
        return np.asarray(np.clip(patch * gain, 0, 255), np.uint8)
