"""MediaPipe FaceMesh behind a small interface: an RGB image in, faces out.

MediaPipe 0.10.21's legacy FaceMesh graph ships its models inside the wheel, so
nothing is downloaded. It does not expose its face-presence score; the tracker
derives a confidence from shape plausibility instead.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from streamgan.tracking.landmarks import NUM_LANDMARKS, Landmarks

log = logging.getLogger(__name__)


def _quiet_native_logging() -> None:
    """MediaPipe's C++ side logs to stderr via glog/absl; keep user output clean."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


@dataclass(frozen=True)
class FaceMeshSettings:
    """What FaceMesh looks for; ``video=True`` tracks across frames (faster, steadier)."""

    video: bool = True
    max_faces: int = 2
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5


def face_area(lm: Landmarks) -> float:
    """Bounding-box area in pixels: what "largest face" means."""
    span = lm[:, :2].max(0) - lm[:, :2].min(0)
    return float(span[0] * span[1])


class FaceMesh:
    """Detects faces and returns 478 landmarks each, largest first."""

    def __init__(self, settings: FaceMeshSettings | None = None) -> None:
        _quiet_native_logging()
        self.settings = settings or FaceMeshSettings()
        import mediapipe as mp  # lazily: it is slow to import

        self._mesh: Any = mp.solutions.face_mesh.FaceMesh(
            static_image_mode=not self.settings.video,
            max_num_faces=self.settings.max_faces,
            refine_landmarks=True,
            min_detection_confidence=self.settings.min_detection_confidence,
            min_tracking_confidence=self.settings.min_tracking_confidence,
        )

    def detect(self, rgb: NDArray[np.uint8]) -> list[Landmarks]:
        """All faces in ``rgb`` (HxWx3 uint8) as ``(478, 3)`` pixel arrays, largest first."""
        height, width = rgb.shape[:2]
        result = self._mesh.process(np.ascontiguousarray(rgb))
        faces: list[Landmarks] = []
        for face in result.multi_face_landmarks or ():
            pts = np.array([(p.x, p.y, p.z) for p in face.landmark], dtype=np.float64)
            if len(pts) != NUM_LANDMARKS:
                continue
            pts *= (width, height, width)
            faces.append(pts)
        faces.sort(key=face_area, reverse=True)
        return faces

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> FaceMesh:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


MIN_STILL_SIDE = 32
"""Stills with a shorter side hold no face FaceMesh can find; smaller ones (a 1x1 PNG,
a 1920x2 strip) crashed its detector's scaling, natively."""
_UPSCALE_SHORT, _UPSCALE_LONG = 320, 4096


def _mesh_still(rgb: NDArray[np.uint8], max_faces: int) -> list[Landmarks]:
    """FaceMesh on a whole still, small images upscaled (its detector wants ~50 px faces)."""
    import cv2

    if min(rgb.shape[:2]) < MIN_STILL_SIDE:
        return []
    scale = min(_UPSCALE_SHORT / min(rgb.shape[:2]), _UPSCALE_LONG / max(rgb.shape[:2]))
    if scale > 1.0:
        rgb = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    else:
        scale = 1.0
    with FaceMesh(FaceMeshSettings(video=False, max_faces=max_faces)) as mesh:
        faces = mesh.detect(np.asarray(rgb, np.uint8))
    return [f / (scale, scale, scale) for f in faces]


def _face_boxes(rgb: NDArray[np.uint8]) -> list[tuple[float, float, float, float]]:
    """Face boxes (x0, y0, x1, y1) from MediaPipe's bundled full-range detector."""
    import mediapipe as mp

    height, width = rgb.shape[:2]
    with mp.solutions.face_detection.FaceDetection(model_selection=1,
                                                   min_detection_confidence=0.5) as det:
        result = det.process(np.ascontiguousarray(rgb))
    boxes = []
    for d in result.detections or ():
        b = d.location_data.relative_bounding_box
        boxes.append((b.xmin * width, b.ymin * height,
                      (b.xmin + b.width) * width, (b.ymin + b.height) * height))
    return boxes


def detect_still(rgb: NDArray[np.uint8], max_faces: int = 4) -> list[Landmarks]:
    """Faces in a still image, largest first.

    FaceMesh's own detector is the short-range (selfie) one and misses faces that are
    small in the frame; those are found with the full-range detector and each crop is
    then refined by FaceMesh.
    """
    if min(rgb.shape[:2]) < MIN_STILL_SIDE:
        return []
    faces = _mesh_still(rgb, max_faces)
    if len(faces) >= max_faces:
        return faces
    height, width = rgb.shape[:2]
    for x0, y0, x1, y1 in _face_boxes(rgb):
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        if any(f[:, 0].min() <= cx <= f[:, 0].max() and f[:, 1].min() <= cy <= f[:, 1].max()
               for f in faces):
            continue  # already found
        half = max(x1 - x0, y1 - y0)  # a crop twice the box, so FaceMesh sees context
        left, top = int(max(0, cx - half)), int(max(0, cy - half))
        right, bottom = int(min(width, cx + half)), int(min(height, cy + half))
        found = _mesh_still(np.ascontiguousarray(rgb[top:bottom, left:right]), 1)
        if found:
            faces.append(found[0] + (left, top, 0))
    faces.sort(key=face_area, reverse=True)
    return faces[:max_faces]
