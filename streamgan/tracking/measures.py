"""Per-frame face measures of a whole video: how tests and tools check motion.

Used to verify that an output followed its driver (tests), that the samples move
as their script says, and by anyone who wants numbers rather than eyeballs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from streamgan.media import AudioPacket, VideoReader
from streamgan.tracking import landmarks as L
from streamgan.tracking.landmarks import Landmarks
from streamgan.tracking.tracker import FaceTracker, TrackerSettings

CHANNELS = ("yaw", "pitch", "roll", "eye", "mouth", "smile")


@dataclass(frozen=True)
class FaceMeasures:
    """One frame: head angles (degrees), eye and mouth opening, mouth width."""

    yaw: float
    pitch: float
    roll: float
    eye: float
    mouth: float
    smile: float

    @staticmethod
    def of(lm: Landmarks) -> FaceMeasures:
        yaw, pitch, roll = L.head_angles(lm)
        return FaceMeasures(yaw, pitch, roll, L.eye_opening(lm), L.mouth_opening(lm),
                            L.mouth_width(lm))


@dataclass(frozen=True)
class VideoMeasures:
    """Measures per frame (NaN where no face was found) and the raw landmarks."""

    values: NDArray[np.float64]  # (frames, len(CHANNELS))
    landmarks: list[Landmarks | None]

    def channel(self, name: str) -> NDArray[np.float64]:
        return np.asarray(self.values[:, CHANNELS.index(name)])

    @property
    def frames(self) -> int:
        return len(self.landmarks)


def measure_video(path: Path, max_side: int | None = None) -> VideoMeasures:
    """Track every frame of ``path`` (unsmoothed, so the measures are the raw truth)."""
    rows: list[list[float]] = []
    marks: list[Landmarks | None] = []
    with VideoReader(path, max_side=max_side, audio=False) as reader, \
            FaceTracker(TrackerSettings(smoothing=None)) as tracker:
        for item in reader:
            if isinstance(item, AudioPacket):
                continue
            track = tracker.track(item.image, item.time)
            if track.detected and track.landmarks is not None:
                m = FaceMeasures.of(track.landmarks)
                rows.append([m.yaw, m.pitch, m.roll, m.eye, m.mouth, m.smile])
                marks.append(track.landmarks)
            else:
                rows.append([np.nan] * len(CHANNELS))
                marks.append(None)
    return VideoMeasures(np.array(rows, np.float64).reshape(-1, len(CHANNELS)), marks)
