"""What happens to each received frame: reenactment onto a target, or nothing; both
watermark every frame, because every streamed frame must carry the mark.

A filter works in two stages, so that a peer can track one frame while it renders
the one before (:mod:`apps.webrtc.track`): :meth:`FrameFilter.track` (conversion,
face tracking and the engine's plan) and :meth:`FrameFilter.render` (the picture and
its watermark). A
filter belongs to one peer; each stage runs on that peer's thread for the stage,
frames in order.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import av
import numpy as np
from numpy.typing import NDArray

from apps.webrtc.styles import StyleCatalog
from apps.webrtc.targets import ConsentedTarget
from streamgan.engines import Plan
from streamgan.media.yuv import Yuv420, rgb_to_yuv420
from streamgan.pipeline.session import ReenactSession
from streamgan.safety.marking import OutputMark
from streamgan.safety.watermark import WatermarkEmbedder
from streamgan.tracking.tracker import FaceTracker, Track, TrackerSettings
from streamgan.translate.session import TranslateSession, Worked, even

TRACK_SIDE = 640
"""Camera frames are tracked at most this large, as ``streamgan reenact`` does."""

FILTERS = ("reenact", "style", "none")


@dataclass(frozen=True)
class Tracked:
    """A frame between the two stages: its picture as stage one left it, and its face."""

    frame: av.VideoFrame
    image: NDArray[np.uint8]
    """RGB for ``reenact``, the yuv420p picture itself for ``none``."""
    time: float
    track: Track | None = None
    plan: Plan | None = None
    """``reenact``: the engine's motion and geometry, decided beside the tracking."""
    translated: Worked | None = None
    """``style``: the frame at the network's working size and the network's output,
    before temporal smoothing and the mark."""


class FrameFilter(Protocol):
    """Turns one received frame into the yuv420p picture sent back, in two stages."""

    name: str

    def track(self, frame: av.VideoFrame) -> Tracked:
        """Stage one: convert ``frame`` and find its face."""
        ...

    def render(self, tracked: Tracked) -> Yuv420:
        """Stage two: the picture to send, watermarked. Called in frame order."""
        ...

    def close(self) -> None: ...


def frame_time(frame: av.VideoFrame) -> float:
    """The frame's time in seconds (its pts), or the clock when it has none."""
    seconds = frame.time
    return float(seconds) if seconds is not None else time.monotonic()


class MarkOnlyFilter:
    """The ``none`` filter: the camera picture as it came, watermarked."""

    name = "none"

    def __init__(self, mark: OutputMark) -> None:
        self.mark = mark
        self._embedder: WatermarkEmbedder | None = None

    def track(self, frame: av.VideoFrame) -> Tracked:
        width, height = frame.width - frame.width % 2, frame.height - frame.height % 2
        picture = frame
        if (width, height) != (frame.width, frame.height) or frame.format.name != "yuv420p":
            picture = frame.reformat(width=width, height=height, format="yuv420p")
        yuv = np.ascontiguousarray(picture.to_ndarray(format="yuv420p"), np.uint8)
        return Tracked(frame, yuv, frame_time(frame))

    def render(self, tracked: Tracked) -> Yuv420:
        yuv: Yuv420 = tracked.image
        height, width = yuv.shape[0] * 2 // 3, yuv.shape[1]
        embedder = self._embedder
        if embedder is None or (embedder.width, embedder.height) != (width, height):
            # The browser may change the camera's resolution mid-call.
            embedder = self._embedder = self.mark.embedder(width, height)
        embedder.embed(yuv)
        return yuv

    def close(self) -> None:
        pass


class ReenactFilter:
    """The ``reenact`` filter: the target follows the camera's face (target's size)."""

    name = "reenact"

    def __init__(self, target: ConsentedTarget, mark: OutputMark) -> None:
        self.target = target
        self.mark = mark
        width, height = target.target.size
        # One face: a camera's user is its most confident face, and MediaPipe then
        # skips its face detector while it follows that face.
        self.session = ReenactSession(target.new_engine(),
                                      FaceTracker(TrackerSettings(max_faces=1)),
                                      processors=[mark.embedder(width, height).embed])

    def track(self, frame: av.VideoFrame) -> Tracked:
        scale = min(1.0, TRACK_SIDE / max(frame.width, frame.height))
        width = max(2, round(frame.width * scale))
        height = max(2, round(frame.height * scale))
        rgb = np.asarray(frame.reformat(width=width, height=height, format="rgb24").to_ndarray(),
                         np.uint8)
        when = frame_time(frame)
        track = self.session.track(rgb, when)
        return Tracked(frame, rgb, when, track, self.session.plan(rgb, track, when))

    def render(self, tracked: Tracked) -> Yuv420:
        if tracked.plan is not None:
            return self.session.draw(tracked.plan)
        if tracked.track is None:
            raise ValueError("reenact renders only frames it tracked")
        return self.session.render(tracked.image, tracked.track, tracked.time)

    def close(self) -> None:
        self.session.close()


class StyleFilter:
    """The ``style`` filter: the camera picture translated by a model (its own size).

    Stage one runs the network, stage two the temporal smoothing against flicker and
    the watermark, so the two overlap on the peer's two threads."""

    name = "style"

    def __init__(self, session: TranslateSession, mark: OutputMark) -> None:
        self.session = session
        self.mark = mark
        self._embedder: WatermarkEmbedder | None = None

    def track(self, frame: av.VideoFrame) -> Tracked:
        rgb = even(np.asarray(frame.to_ndarray(format="rgb24"), np.uint8))
        worked = self.session.run_model([rgb])[0]
        return Tracked(frame, rgb, frame_time(frame), translated=worked)

    def render(self, tracked: Tracked) -> Yuv420:
        if tracked.translated is None:
            raise ValueError("style renders only frames it translated")
        rgb = self.session.finish(tracked.image, tracked.translated)
        height, width = rgb.shape[:2]
        embedder = self._embedder
        if embedder is None or (embedder.width, embedder.height) != (width, height):
            embedder = self._embedder = self.mark.embedder(width, height)
        yuv = rgb_to_yuv420(rgb)
        embedder.embed(yuv)
        return yuv

    def close(self) -> None:
        self.session.close()


def make_filter(name: str, target: ConsentedTarget | None,
                styles: StyleCatalog | None = None, style: str | None = None) -> FrameFilter:
    """A fresh filter for one peer, with its own output mark (payload)."""
    if name == "none":
        return MarkOnlyFilter(OutputMark.new(None))
    if name == "reenact" and target is not None:
        return ReenactFilter(target, OutputMark.new(target.consent))
    if name == "style" and styles is not None and style is not None:
        return StyleFilter(TranslateSession(styles.translator(style)), OutputMark.new(None))
    raise ValueError(f"filter {name!r} needs a target" if name == "reenact"
                     else f"filter {name!r} needs a style" if name == "style"
                     else f"unknown filter {name!r}")
