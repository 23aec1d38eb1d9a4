"""A target whose hair edge is finer than selfie segmentation sees, on a plain backdrop.

Built from ``samples/target.png`` (itself a synthetic morph, no real person): the person
is cut out with MediaPipe's selfie segmentation and put on a plain studio backdrop, and
the hair gets what real hair has and the 256x256 segmentation model misses: a soft fringe
reaching a few pixels beyond its edge and thin dark strands drawn outward from it. On a
plain backdrop anything of the hair left behind by a moving head is plain to see.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from tests.conftest import SAMPLES

BACKDROP = (196, 200, 206)
"""A light grey studio backdrop: dark hair strands stand out on it by 100+ levels."""
STRAND = (62, 46, 34)


@dataclass(frozen=True)
class HairEdgeTarget:
    """``image`` RGB; ``person`` where any of the person is (fringe and strands included),
    so everything else is exactly ``BACKDROP``; ``hair`` the part of it above the face's
    middle, where the head moves rigidly."""

    image: NDArray[np.uint8]
    person: NDArray[np.bool_]
    hair: NDArray[np.bool_]


def hair_edge_target(seed: int = 12) -> HairEdgeTarget:
    """The sample target's person on ``BACKDROP`` with a soft fringe and ~60 strands."""
    import mediapipe as mp

    from streamgan.media import read_image
    from streamgan.tracking import landmarks as L
    from streamgan.tracking.facemesh import detect_still

    rgb = read_image(SAMPLES / "target.png")
    height, width = rgb.shape[:2]
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        mask = seg.process(np.ascontiguousarray(rgb)).segmentation_mask
    # The cut-out, a little inside the segmented edge (none of the old room comes along).
    body = cv2.erode((mask > 0.5).astype(np.uint8), np.ones((5, 5), np.uint8))
    cover = cv2.GaussianBlur(body.astype(np.float32), (0, 0), 0.8)
    lm = detect_still(rgb)[0]
    # Hair: the person's outline above the face's middle (not the shoulders).
    mid_y = float(lm[list(L.FACE_OVAL), 1].mean())
    rows = np.arange(height)[:, None] * np.ones((1, width))
    above = rows < mid_y
    rng = np.random.default_rng(seed)
    # Soft fringe: hair thinning out over ~7 px beyond the cut, broken up like strands.
    outside = cv2.distanceTransform((body == 0).astype(np.uint8), cv2.DIST_L2, 5)
    noise = cv2.GaussianBlur(rng.random((height, width)).astype(np.float32), (0, 0), 1.0)
    noise = (noise - noise.min()) / (np.ptp(noise) + 1e-6)
    fringe = np.clip(1.0 - outside / 7.0, 0.0, 1.0) * (0.35 + 0.65 * noise) * above
    fringe = fringe * (body == 0)
    hair_rgb = np.median(rgb[(body > 0) & above & (outside == 0)
                             & (cv2.erode(body, np.ones((15, 15), np.uint8)) == 0)], axis=0)
    image = np.empty((height, width, 3), np.float32)
    image[:] = BACKDROP
    image = image * (1 - cover[..., None]) + rgb.astype(np.float32) * cover[..., None]
    image = image * (1 - fringe[..., None]) + hair_rgb * 0.8 * fringe[..., None]
    # Strands: thin dark curves leaving the hair outline outward, 8..26 px long.
    strands = np.zeros((height, width), np.float32)
    contours, _ = cv2.findContours(body, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    edge = max(contours, key=cv2.contourArea)[:, 0, :].astype(np.float64)
    edge = edge[edge[:, 1] < mid_y]
    centre = np.array([float(lm[list(L.FACE_OVAL), 0].mean()), mid_y])
    for start in edge[rng.choice(len(edge), size=60, replace=False)]:
        out = (start - centre) / np.linalg.norm(start - centre)
        angle = rng.normal(0.0, 0.5)
        direction = np.array([out[0] * np.cos(angle) - out[1] * np.sin(angle),
                              out[0] * np.sin(angle) + out[1] * np.cos(angle)])
        bend = rng.normal(0.0, 0.04)
        length = rng.uniform(8.0, 26.0)
        points = [start - 3 * direction]
        for _ in range(int(length)):
            direction = np.array([direction[0] * np.cos(bend) - direction[1] * np.sin(bend),
                                  direction[0] * np.sin(bend) + direction[1] * np.cos(bend)])
            points.append(points[-1] + direction)
        poly = np.round(np.array(points) * 16).astype(np.int32)
        cv2.polylines(strands, [poly], False, float(rng.uniform(0.6, 0.95)), 1,
                      cv2.LINE_AA, shift=4)
    strands = np.clip(strands, 0.0, 1.0) * (body == 0)
    image = image * (1 - strands[..., None]) + np.array(STRAND, np.float32) * strands[..., None]
    out_image = np.asarray(np.clip(np.round(image), 0, 255), np.uint8)
    person = np.any(out_image != np.array(BACKDROP, np.uint8), axis=2)
    return HairEdgeTarget(out_image, person, person & above)
