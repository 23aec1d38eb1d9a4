"""One stream's reenactment state: tracker, reference frame and engine together.

Files, WebRTC peers and benchmarks all run frames through a :class:`ReenactSession`,
so they share one behaviour: the first frame with a face (or a chosen one) is the
neutral reference, frames before it show the target unchanged, and frames where the
face is lost hold the last pose.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from streamgan.engines.base import Drive, Engine, Plan
from streamgan.media.yuv import Yuv420
from streamgan.pipeline.stats import StageTimes
from streamgan.tracking.landmarks import Landmarks
from streamgan.tracking.tracker import FaceTracker, Track

FrameProcessor = Callable[[Yuv420], None]
"""A step applied in place to every rendered picture: the watermark, for one."""


class ReenactSession:
    """Feeds driver frames through tracking, a prepared engine and frame processors."""

    def __init__(self, engine: Engine, tracker: FaceTracker,
                 reference: Landmarks | None = None, times: StageTimes | None = None,
                 processors: Sequence[FrameProcessor] = ()) -> None:
        self.engine = engine
        self.tracker = tracker
        self.processors = tuple(processors)
        self.reference = reference
        self.times = times or StageTimes()
        self.frames = 0
        self.frames_without_face = 0

    def process(self, rgb: NDArray[np.uint8], time: float) -> Yuv420:
        """The target following driver frame ``rgb`` (shown at ``time`` s), as yuv420p."""
        return self.render(rgb, self.track(rgb, time), time)

    def track(self, rgb: NDArray[np.uint8], time: float) -> Track:
        """Stage one: the driver's face in this frame. May run on its own thread, one
        frame ahead of :meth:`render`, as long as frames arrive in order."""
        self.frames += 1
        with self.times.stage("track"):
            track = self.tracker.track(rgb, time)
        if not track.detected:
            self.frames_without_face += 1
        return track

    def render(self, rgb: NDArray[np.uint8], track: Track, time: float) -> Yuv420:
        """Stage two: the target posed as ``track`` says, with every frame processor
        (:meth:`plan` then :meth:`draw`, for callers that keep them together)."""
        return self.draw(self.plan(rgb, track, time))

    def plan(self, rgb: NDArray[np.uint8], track: Track, time: float) -> Plan:
        """The first half of :meth:`render` (the engine's motion and geometry), which can
        run on the tracking thread, in frame order, beside the drawing of the frame
        before."""
        if self.reference is None and track.detected:
            self.reference = track.landmarks
        with self.times.stage("plan"):
            return self.engine.plan(Drive(rgb, track.landmarks, self.reference, time))

    def draw(self, plan: Plan) -> Yuv420:
        """The second half of :meth:`render`: the picture, with every frame processor."""
        return self.draw_batch([plan])[0]

    def draw_batch(self, plans: Sequence[Plan]) -> list[Yuv420]:
        """:meth:`draw` for several plans in frame order, drawn by the engine together."""
        with self.times.stage("render"):
            pictures = self.engine.draw_batch(plans)
        with self.times.stage("mark"):
            for picture in pictures:
                for processor in self.processors:
                    processor(picture)
        return pictures

    def close(self) -> None:
        self.tracker.close()
