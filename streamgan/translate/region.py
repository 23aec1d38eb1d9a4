"""Which part of a frame is translated: all of it, the person, or the face.

``person`` is MediaPipe's bundled selfie segmentation; ``face`` the FaceMesh face
outline (forehead to chin, ear to ear), grown a little. Either mask is soft at its
edge, and the rest of the frame is the input untouched.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from streamgan.tracking.landmarks import FACE_OVAL
from streamgan.tracking.tracker import FaceTracker, TrackerSettings

REGIONS = ("all", "person", "face")
Mask = NDArray[np.float32]


class RegionMask:
    """Per-frame soft masks of one stream's region (holds that stream's tracker)."""

    def __init__(self, region: str) -> None:
        if region not in ("person", "face"):
            raise ValueError(f"region must be person or face, not {region!r}")
        self.region = region
        self._segmenter: Any = None
        self._tracker: FaceTracker | None = None
        self._time = 0.0
        if region == "person":
            import mediapipe as mp

            # The landscape model: a quarter of the general model's work, made for calls.
            self._segmenter = mp.solutions.selfie_segmentation.SelfieSegmentation(
                model_selection=1)
        else:
            self._tracker = FaceTracker(TrackerSettings(max_faces=1))

    def __call__(self, rgb: NDArray[np.uint8]) -> Mask:
        """Coverage in [0, 1] of the region in ``rgb`` (H, W)."""
        h, w = rgb.shape[:2]
        feather = max(3, round(max(h, w) / 100)) | 1
        if self._segmenter is not None:
            found = self._segmenter.process(np.ascontiguousarray(rgb)).segmentation_mask
            mask = (np.zeros((h, w), np.float32) if found is None else
                    np.clip((found.astype(np.float32) - 0.2) / 0.6, 0, 1))
        else:
            assert self._tracker is not None
            self._time += 1 / 30
            track = self._tracker.track(np.ascontiguousarray(rgb), self._time)
            mask = np.zeros((h, w), np.float32)
            if track.landmarks is not None and track.detected:
                oval = track.landmarks[list(FACE_OVAL), :2]
                centre = oval.mean(0)
                grown = centre + (oval - centre) * 1.08
                cv2.fillPoly(mask, [np.round(grown).astype(np.int32)], 1.0)
        return np.asarray(cv2.GaussianBlur(mask, (feather, feather), 0), np.float32)

    def close(self) -> None:
        if self._segmenter is not None:
            self._segmenter.close()
            self._segmenter = None
        if self._tracker is not None:
            self._tracker.close()
            self._tracker = None


def blend(translated: NDArray[np.uint8], original: NDArray[np.uint8],
          mask: Mask) -> NDArray[np.uint8]:
    """``translated`` where the mask is 1, ``original`` where it is 0, mixed between."""
    m = mask[..., None]
    out = original.astype(np.float32) * (1 - m) + translated.astype(np.float32) * m
    exact = mask <= 0
    result = np.round(out).astype(np.uint8)
    result[exact] = original[exact]
    return result
