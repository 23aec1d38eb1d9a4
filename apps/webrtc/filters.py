"""What happens to each received frame: reenactment onto a target, or nothing; both
watermark every frame, because every streamed frame must carry the mark.

A filter belongs to one peer and runs on that peer's single worker thread only.
"""

from __future__ import annotations

import time
from typing import Protocol

import av
import numpy as np

from apps.webrtc.targets import ConsentedTarget
from streamgan.media.yuv import Yuv420
from streamgan.pipeline.session import ReenactSession
from streamgan.safety.marking import OutputMark
from streamgan.safety.watermark import WatermarkEmbedder
from streamgan.tracking.tracker import FaceTracker

TRACK_SIDE = 640
"""Camera frames are tracked at most this large, as ``streamgan reenact`` does."""

FILTERS = ("reenact", "none")


class FrameFilter(Protocol):
    """Turns one received frame into the yuv420p picture sent back."""

    name: str

    def process(self, frame: av.VideoFrame) -> Yuv420: ...

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

    def process(self, frame: av.VideoFrame) -> Yuv420:
        width, height = frame.width - frame.width % 2, frame.height - frame.height % 2
        if (width, height) != (frame.width, frame.height) or frame.format.name != "yuv420p":
            frame = frame.reformat(width=width, height=height, format="yuv420p")
        yuv: Yuv420 = np.ascontiguousarray(frame.to_ndarray(format="yuv420p"), np.uint8)
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
        self.session = ReenactSession(target.new_engine(), FaceTracker(),
                                      processors=[mark.embedder(width, height).embed])

    def process(self, frame: av.VideoFrame) -> Yuv420:
        scale = min(1.0, TRACK_SIDE / max(frame.width, frame.height))
        width = max(2, round(frame.width * scale))
        height = max(2, round(frame.height * scale))
        rgb = np.asarray(frame.reformat(width=width, height=height, format="rgb24").to_ndarray(),
                         np.uint8)
        when = frame_time(frame)
        return self.session.render(rgb, self.session.track(rgb, when), when)

    def close(self) -> None:
        self.session.close()


def make_filter(name: str, target: ConsentedTarget | None) -> FrameFilter:
    """A fresh filter for one peer, with its own output mark (payload)."""
    if name == "none":
        return MarkOnlyFilter(OutputMark.new(None))
    if name == "reenact" and target is not None:
        return ReenactFilter(target, OutputMark.new(target.consent))
    raise ValueError(f"filter {name!r} needs a target" if name == "reenact"
                     else f"unknown filter {name!r}")
