"""Split the target into a person layer and a background plate, once per target.

The head moves over a background that must stay put: the person (head, hair,
neck) is warped, the background is not, and where the moving head uncovers
background the plate shows an inpainted fill instead of a smear.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Layers:
    """``alpha`` is the person's coverage (uint8 0..255); ``background`` is RGB."""

    alpha: NDArray[np.uint8]
    background: NDArray[np.uint8]


def person_alpha(rgb: NDArray[np.uint8], fallback: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Person coverage from MediaPipe's bundled selfie segmentation.

    Soft edges are hardened so that at rest the composite reproduces the target:
    only a thin band mixes person and plate. ``fallback`` (a head-and-neck shape)
    is used when segmentation finds next to nothing, e.g. on a painting.
    """
    import mediapipe as mp

    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        mask = seg.process(np.ascontiguousarray(rgb)).segmentation_mask
    if mask is None or float((mask > 0.5).mean()) < 0.01:
        log.info("segmentation found no person; using the head outline instead")
        return fallback
    hard = np.clip((mask.astype(np.float32) - 0.3) / 0.4, 0.0, 1.0)
    # Keep the whole head in the person layer even where segmentation is unsure.
    hard = np.maximum(hard, fallback.astype(np.float32) / 255.0 * (hard > 0.05))
    return np.asarray(np.round(hard * 255), np.uint8)


def background_plate(rgb: NDArray[np.uint8], alpha: NDArray[np.uint8],
                     work_side: int = 320) -> NDArray[np.uint8]:
    """The target with the person inpainted away (done small, then upscaled).

    Only slivers of this fill are ever seen, next to a moving head, so a smooth
    low-resolution inpaint is enough and keeps preparation quick on big targets.
    """
    height, width = rgb.shape[:2]
    # Only where the person dominates: at rest the composite mixes the target with the
    # plate across the soft edge, and there the plate is the target itself.
    hole = cv2.dilate((alpha > 160).astype(np.uint8), np.ones((3, 3), np.uint8))
    scale = min(1.0, work_side / max(height, width))
    small_size = (max(2, round(width * scale)), max(2, round(height * scale)))
    small = cv2.resize(rgb, small_size, interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(hole, small_size, interpolation=cv2.INTER_NEAREST)
    small_hole = cv2.dilate(small_hole, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, small_hole, 5, cv2.INPAINT_TELEA)
    filled = cv2.GaussianBlur(filled, (0, 0), 1.5)
    big = cv2.resize(filled, (width, height), interpolation=cv2.INTER_LINEAR)
    out = rgb.copy()
    out[hole > 0] = big[hole > 0]
    return out


def split_layers(rgb: NDArray[np.uint8], head_shape: NDArray[np.uint8]) -> Layers:
    """Person alpha and background plate for a target image."""
    alpha = person_alpha(rgb, head_shape)
    return Layers(alpha=alpha, background=background_plate(rgb, alpha))
