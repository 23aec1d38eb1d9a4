"""Mouth interior: what shows when the target opens its mouth wider than its photo.

A warp alone would stretch the lips across the gap. Instead the driver's own mouth
interior (teeth, tongue, cavity) is mapped onto the target's new inner-lip opening
with an affine fit, colour-matched to the target's skin, and feathered in.

Only a mouth is copied. When something passes in front of the driver's mouth (a
hand, a microphone, a cup), FaceMesh still places the lips, and their "interior" is
the object: pasted, it showed as pale broken teeth in the colour of the object. So
the interior is checked first, for colours no mouth has (:func:`foreign_fraction`: a
glove, a cup) and for skin where a mouth shows teeth, tongue and shadow
(:func:`skin_fraction`: a bare hand), and an occluded one is replaced by the last
interior that looked like a mouth, warped to the current lips.
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


FOREIGN_MAX = 0.2
"""Share of an interior's pixels that may look like no part of a mouth before it is
taken for an occluder."""
_MOUTH_HUES = 25, 160
"""OpenCV hues (0-180) outside this range are reds to orange: lips, tongue, gums, skin."""


def foreign_fraction(patch: NDArray[np.uint8], mask: NDArray[np.float32]) -> float:
    """The share of the masked pixels no mouth has: clearly coloured (saturated, lit)
    in a hue other than the reds and oranges of lips, tongue and skin. Teeth are
    unsaturated, the cavity dark: both count as mouth. A bare hand is skin-coloured
    and not caught by this test."""
    inside = mask > 0.5
    if int(inside.sum()) < 16:
        return 0.0
    hsv = cv2.cvtColor(patch, cv2.COLOR_RGB2HSV)[inside]
    hue, saturation, value = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    other_hue = (hue > _MOUTH_HUES[0]) & (hue < _MOUTH_HUES[1])
    return float(np.mean(other_hue & (saturation > 90) & (value > 60)))


SKIN_MAX = 0.65
"""Share of an interior's pixels that may look like lit skin before it is taken for a
hand. On the hard clips an open mouth scores 0.0-0.55 (the most at small openings,
where the lips' inner edge fills the polygon), a bare hand over it 0.83-1.0."""
_SKIN_CHROMA = 10.0
"""How far (in YCrCb's Cr and Cb, 0-255) a pixel may be from the face's skin to count
as skin: lips and tongue are redder, teeth greyer."""
_SKIN_LIGHT = 0.75
"""...and how dark, as a share of the skin's luma: a mouth's cavity and shadow are
darker, a hand in front of the mouth is lit like the face."""


def skin_fraction(patch: NDArray[np.uint8], mask: NDArray[np.float32],
                  skin: NDArray[np.float64]) -> float:
    """The share of the masked pixels that look like the face's lit skin ``skin`` (RGB):
    what a bare hand in front of the mouth shows, where a mouth shows none."""
    inside = mask > 0.5
    if int(inside.sum()) < 16:
        return 0.0
    ycc = cv2.cvtColor(patch, cv2.COLOR_RGB2YCrCb)[inside].astype(np.float32)
    ref = cv2.cvtColor(np.clip(skin, 0, 255).astype(np.uint8).reshape(1, 1, 3),
                       cv2.COLOR_RGB2YCrCb)[0, 0].astype(np.float32)
    near = (np.abs(ycc[:, 1] - ref[1]) < _SKIN_CHROMA) & (np.abs(ycc[:, 2] - ref[2]) < _SKIN_CHROMA)
    return float(np.mean(near & (ycc[:, 0] > _SKIN_LIGHT * ref[0])))


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
        self._last_mouth: tuple[NDArray[np.uint8], Landmarks] | None = None
        """The last driver frame (and its landmarks) whose interior looked like a mouth."""
        self.occluded_frames = 0
        """Frames whose driver interior was refused as an occluder."""

    def reset(self) -> None:
        self._last_mouth = None

    def render(self, driver_rgb: NDArray[np.uint8], driver_lm: Landmarks, out_lm: Landmarks,
               size: tuple[int, int]) -> tuple[Roi, NDArray[np.uint8], NDArray[np.float32]] | None:
        """The interior as (roi, rgb patch, alpha patch in 0..1) or None if the mouth is
        shut, or occluded with no earlier mouth to show instead.

        ``out_lm`` are the target's landmarks in the output frame, ``size`` its (w, h).
        """
        ring_out = out_lm[_RING, :2]
        if cv2.contourArea(ring_out.astype(np.float32)) < 4.0:
            return None
        pad = 4 + 2 * self.feather
        roi = even_roi(np.vstack([ring_out.min(0) - pad, ring_out.max(0) + pad]), *size)
        if roi.width < 4 or roi.height < 4:
            return None
        local = (ring_out - (roi.x0, roi.y0)).astype(np.float32)
        mask = np.zeros((roi.height, roi.width), np.float32)
        cv2.fillPoly(mask, [np.round(local * 4).astype(np.int32)], 1.0, cv2.LINE_AA, shift=2)
        patch = self._interior(driver_rgb, driver_lm, local, roi)
        if patch is None:
            return None
        driver_skin = skin_colour(driver_rgb, driver_lm)
        if (foreign_fraction(patch, mask) > FOREIGN_MAX
                or skin_fraction(patch, mask, driver_skin) > SKIN_MAX):
            self.occluded_frames += 1
            if self._last_mouth is None:
                return None
            patch = self._interior(*self._last_mouth, local, roi)
            if patch is None:
                return None
            driver_skin = skin_colour(*self._last_mouth)
        else:  # copied: a caller may reuse its frame buffer for the next frame
            self._last_mouth = (driver_rgb.copy(), driver_lm.copy())
        patch = self._match(patch, driver_skin)
        if self.feather > 0:
            mask = cv2.GaussianBlur(mask, (0, 0), self.feather)
        return roi, patch, mask

    @staticmethod
    def _interior(driver_rgb: NDArray[np.uint8], driver_lm: Landmarks,
                  local: NDArray[np.float32], roi: Roi) -> NDArray[np.uint8] | None:
        """The driver's inner-lip region, mapped onto ``local`` (the output lips)."""
        ring_drv = driver_lm[_RING, :2].astype(np.float32)
        affine, _ = cv2.estimateAffine2D(ring_drv, local, method=cv2.LMEDS)
        if affine is None:
            return None
        return np.asarray(cv2.warpAffine(driver_rgb, affine, (roi.width, roi.height),
                                         flags=cv2.INTER_LINEAR,
                                         borderMode=cv2.BORDER_REPLICATE), np.uint8)

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
