"""Split the target into a person layer and a background plate, once per target.

The head moves over a background that must stay put: the person (head, hair,
neck) is warped, the background is not, and where the moving head uncovers
background the plate shows an inpainted fill instead of a smear.

The plate is cleared of the person with a margin, and the person layer is opaque
over all of it: selfie segmentation (a 256x256 model, upsampled) misses the soft
edge and fine strands of hair, and any of them left in the plate stays behind on
the backdrop as a ghost outline once the head moves. The layer instead carries a
thin ring of backdrop with the head, which a plain backdrop hides.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

log = logging.getLogger(__name__)

MARGIN = 0.025
"""How far beyond the segmented person the plate is cleared, as a fraction of the
image's longer side (16 px at 640x360): past the soft band, the model's typical
error (a model pixel is 0.4% of the side) and most stray hair. On the hair-edge test
target 0.01 left 25-60 hair pixels on the uncovered backdrop, 0.02 up to 6, 0.025 none."""


@dataclass(frozen=True)
class Layers:
    """``alpha`` is the person's coverage (uint8 0..255); ``background`` is RGB."""

    alpha: NDArray[np.uint8]
    background: NDArray[np.uint8]


def person_alpha(rgb: NDArray[np.uint8], fallback: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Person coverage from MediaPipe's bundled selfie segmentation.

    Soft edges are hardened: only a thin band is unsure. ``fallback`` (a head-and-neck
    shape) is used when segmentation finds next to nothing, e.g. on a painting.
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


def distance_outside(alpha: NDArray[np.uint8]) -> NDArray[np.float32]:
    """Each pixel's distance in pixels from any of the person (0 on the person)."""
    free = (alpha == 0).astype(np.uint8)
    return np.asarray(cv2.distanceTransform(free, cv2.DIST_L2, 3), np.float32)


def margin_pixels(shape: tuple[int, ...], margin: float = MARGIN) -> float:
    """``margin`` in pixels: segmentation's error grows with the image (it is upsampled)."""
    return margin * max(shape[:2])


def inpaint(rgb: NDArray[np.uint8], hole: NDArray[np.bool_],
            work_side: int = 320) -> NDArray[np.uint8]:
    """``rgb`` with ``hole`` filled from around it (done small, then upscaled).

    Only slivers of this fill are ever seen, next to a moving head, so a smooth
    low-resolution inpaint is enough and keeps preparation quick on big targets.
    """
    height, width = rgb.shape[:2]
    mask = hole.astype(np.uint8)
    scale = min(1.0, work_side / max(height, width))
    small_size = (max(2, round(width * scale)), max(2, round(height * scale)))
    small = cv2.resize(rgb, small_size, interpolation=cv2.INTER_AREA)
    small_hole = cv2.resize(mask, small_size, interpolation=cv2.INTER_NEAREST)
    small_hole = cv2.dilate(small_hole, np.ones((3, 3), np.uint8))
    filled = cv2.inpaint(small, small_hole, 5, cv2.INPAINT_TELEA)
    filled = cv2.GaussianBlur(filled, (0, 0), 1.5)
    big = cv2.resize(filled, (width, height), interpolation=cv2.INTER_LINEAR)
    out = rgb.copy()
    out[hole] = big[hole]
    return out


def background_plate(rgb: NDArray[np.uint8], distance: NDArray[np.float32],
                     margin: float) -> NDArray[np.uint8]:
    """The target with the person and ``margin`` pixels around it inpainted away."""
    return inpaint(rgb, distance <= margin)


def layer_alpha(distance: NDArray[np.float32], margin: float) -> NDArray[np.uint8]:
    """The person layer's coverage: opaque over the plate's whole hole and 2 px beyond
    (a yuv420p chroma sample spans 2 px), then feathered over ``margin / 2`` px of pure
    backdrop. At rest it is exact: the layer is the target and so is the plate where
    the layer is not opaque."""
    feather = max(1.0, margin / 2)
    ramp = np.clip((margin + 2 + feather - distance) / feather, 0.0, 1.0)
    return np.asarray(np.round(ramp * 255), np.uint8)


def split_layers(rgb: NDArray[np.uint8], head_shape: NDArray[np.uint8],
                 margin: float = MARGIN) -> Layers:
    """Person alpha and background plate for a target image."""
    distance = distance_outside(person_alpha(rgb, head_shape))
    pixels = margin_pixels(rgb.shape, margin)
    return Layers(alpha=layer_alpha(distance, pixels),
                  background=background_plate(rgb, distance, pixels))
