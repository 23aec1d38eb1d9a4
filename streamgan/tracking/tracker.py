"""Per-stream face tracking: pick one face, smooth it, and carry on when it is lost.

One tracker per stream (a file, a WebRTC peer): it holds that stream's history, so
streams never share state.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from streamgan.tracking.facemesh import FaceMesh, FaceMeshSettings
from streamgan.tracking.landmarks import EXPRESSIVE, NUM_LANDMARKS, Landmarks, interocular
from streamgan.tracking.pose import fit_head_pose
from streamgan.tracking.smoothing import OneEuroFilter, OneEuroSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrackerSettings:
    """``face_index`` 0 is the largest face; later frames follow the same face."""

    face_index: int = 0
    max_faces: int | None = None
    """How many faces FaceMesh looks for; None: ``face_index`` + 2, so that the largest
    can be chosen. While it follows fewer faces than this, MediaPipe runs its face
    detector on every frame (about 3 ms); 1 skips that, and takes the detector's most
    confident face instead of the largest (a live camera's user). With None and
    ``face_index`` 0, once a video has shown one face only for ``settle_frames``
    frames in a row the tracker follows that face alone, as with 1."""
    settle_frames: int = 25
    smoothing: OneEuroSettings | None = field(default_factory=OneEuroSettings)
    reset_after: float = 0.5
    """Seconds without a face after which smoothing starts afresh (no glide from afar)."""
    expressive_cutoff: float = 4.0
    """Eyelids, irises and lips are smoothed this many times less than the rest: a
    blink lasts three frames, and the head's shimmer is what smoothing is for."""


@dataclass(frozen=True)
class Track:
    """The tracker's answer for one frame.

    ``landmarks`` is None only before the face was ever seen; when the face is lost
    later the last landmarks are held (``detected`` False).
    """

    landmarks: Landmarks | None
    detected: bool
    confidence: float
    """1 for a plausible face shape, falling towards 0 as the rigid points distort
    (occlusion, a wrong face); 0 when nothing was detected."""


def _expressive_cutoff_scale(factor: float) -> NDArray[np.float64]:
    scale = np.ones((NUM_LANDMARKS, 1))
    scale[list(EXPRESSIVE)] = factor
    return scale


def _video_mesh(max_faces: int) -> FaceMesh:
    return FaceMesh(FaceMeshSettings(max_faces=max_faces))


def _plausibility(anchor: Landmarks, current: Landmarks) -> float:
    _, residual = fit_head_pose(anchor, current)
    return float(np.exp(-((residual / 0.06) ** 2)))


class FaceTracker:
    """FaceMesh in video mode, face choice, One Euro smoothing, hold on loss."""

    def __init__(self, settings: TrackerSettings | None = None,
                 open_mesh: Callable[[int], FaceMesh] | None = None) -> None:
        """``open_mesh(max_faces)`` makes the face mesh (a FaceMesh in video mode)."""
        self.settings = settings or TrackerSettings()
        face_index, max_faces = self.settings.face_index, self.settings.max_faces
        if face_index < 0:
            raise ValueError("face_index must be >= 0")
        if max_faces is not None and max_faces <= face_index:
            raise ValueError("max_faces must be more than face_index")
        self._open_mesh = open_mesh or _video_mesh
        # To pick the largest of several faces the mesh must look for more than one.
        self._mesh = self._open_mesh(max_faces or face_index + 2)
        self._alone_after = (self.settings.settle_frames
                             if max_faces is None and face_index == 0 else None)
        self._alone_for = 0
        self._filter = (OneEuroFilter(self.settings.smoothing, _expressive_cutoff_scale(
            self.settings.expressive_cutoff)) if self.settings.smoothing else None)
        self._last: Landmarks | None = None
        self._anchor: Landmarks | None = None
        self._last_seen: float | None = None
        self.frames = 0
        self.frames_lost = 0

    def track(self, rgb: NDArray[np.uint8], time: float) -> Track:
        """Landmarks for the frame ``rgb`` shown at ``time`` seconds."""
        self.frames += 1
        faces = self._mesh.detect(rgb)
        self._follow_alone_when_settled(len(faces))
        stale = self._last_seen is None or time - self._last_seen > self.settings.reset_after
        chosen = self._choose(faces, by_index=stale)
        if chosen is None:
            self.frames_lost += 1
            return Track(self._last, False, 0.0)
        if self._anchor is None:
            self._anchor = chosen
        confidence = _plausibility(self._anchor, chosen)
        if self._filter is not None:
            if stale:
                self._filter.reset()
            chosen = self._filter(chosen, time, scale=interocular(chosen))
        self._last, self._last_seen = chosen, time
        return Track(chosen, True, confidence)

    def _follow_alone_when_settled(self, faces: int) -> None:
        """Look for one face only, once the video has shown no other for a while.

        While it follows fewer faces than it looks for, MediaPipe runs its face detector
        on every frame: about 2 ms of a 5.5 ms frame at 640x360. Following one face
        alone skips it; the face followed stays the same (MediaPipe keeps following it,
        and the tracker refuses a face far from the last one), and only after it is
        lost would a new face be the detector's most confident rather than the largest.
        """
        if self._alone_after is None:
            return
        self._alone_for = self._alone_for + 1 if faces == 1 else 0
        if self._alone_for >= self._alone_after:
            self._mesh.close()
            self._mesh = self._open_mesh(1)
            self._alone_after = None
            log.debug("one face only for %d frames: following it alone", self._alone_for)

    def _choose(self, faces: list[Landmarks], by_index: bool) -> Landmarks | None:
        """The face at ``face_index`` by size when (re)starting, else the one nearest the last."""
        if not faces:
            return None
        if by_index or self._last is None:
            index = self.settings.face_index
            return faces[index] if index < len(faces) else None
        centre = self._last[:, :2].mean(0)
        distances = [float(np.linalg.norm(f[:, :2].mean(0) - centre)) for f in faces]
        best = int(np.argmin(distances))
        # A face far from where ours was is someone else: treat ours as lost.
        if distances[best] > 2.0 * interocular(self._last):
            return None
        return faces[best]

    def close(self) -> None:
        self._mesh.close()

    def __enter__(self) -> FaceTracker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
