"""One stream's translation: the engine, then temporal smoothing, the region, the mark.

A session belongs to one stream (a file, a WebRTC peer), because the temporal filter
and the face tracker of ``--region face`` hold that stream's history. It hands back
yuv420p pictures with every processor (the watermark) applied.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from numpy.typing import NDArray

from streamgan.media.yuv import Yuv420, rgb_to_yuv420
from streamgan.pipeline.stats import StageTimes
from streamgan.translate.engine import Translator
from streamgan.translate.region import RegionMask, blend
from streamgan.translate.temporal import TemporalFilter

RGB = NDArray[np.uint8]
Processor = Callable[[Yuv420], None]
Worked = tuple[RGB, RGB]
"""A frame at the network's working size, and the network's output for it."""


def even(rgb: RGB) -> RGB:
    """``rgb`` cut to even sides, as yuv420p needs."""
    h, w = rgb.shape[:2]
    return rgb if not (h % 2 or w % 2) else np.ascontiguousarray(rgb[:h - h % 2, :w - w % 2])


class TranslateSession:
    """Frames in, translated and marked yuv420p pictures out, in order."""

    def __init__(self, translator: Translator, temporal: bool = True, region: str = "all",
                 processors: Sequence[Processor] = (), times: StageTimes | None = None
                 ) -> None:
        self.translator = translator
        self.temporal = TemporalFilter() if temporal else None
        self.region = RegionMask(region) if region != "all" else None
        self.processors = list(processors)
        self.times = times or StageTimes()
        self.frames = 0

    def run_model(self, frames: Sequence[RGB]) -> list[Worked]:
        """Stage one: each frame at the network's working size and the network's output
        for it; may run on another thread than the rest, frames in order."""
        with self.times.stage("model"):
            small = self.translator.shrink([even(f) for f in frames])
            return list(zip(small, self.translator.run(small), strict=True))

    def finish(self, source: RGB, worked: Worked) -> RGB:
        """Stage two: the output smoothed in time (at the working size, where the
        network's detail is, so the flow and blend cost a quarter at half size), scaled
        to the frame's size and limited to the region; frames in stream order."""
        source = even(source)
        small, output = worked
        if self.temporal is not None:
            with self.times.stage("temporal"):
                output = self.temporal(small, output)
        height, width = source.shape[:2]
        output = self.translator.grow([output], width, height)[0]
        if self.region is not None:
            with self.times.stage("region"):
                output = blend(output, source, self.region(source))
        return output

    def mark(self, rgb: RGB) -> Yuv420:
        """The finished frame as yuv420p with every processor (the watermark) applied."""
        with self.times.stage("mark"):
            yuv = rgb_to_yuv420(rgb)
            for processor in self.processors:
                processor(yuv)
        self.frames += 1
        return yuv

    def translate(self, frames: Sequence[RGB]) -> list[RGB]:
        """The finished RGB frames (before marking), even-sized."""
        worked = self.run_model(frames)
        return [self.finish(source, w) for source, w in zip(frames, worked, strict=True)]

    def process(self, frames: Sequence[RGB]) -> list[Yuv420]:
        """Translate ``frames`` and apply the processors: the pictures to send or write."""
        return [self.mark(rgb) for rgb in self.translate(frames)]

    def reset(self) -> None:
        """A new stream starts: forget the previous frames."""
        if self.temporal is not None:
            self.temporal.reset()

    def close(self) -> None:
        if self.region is not None:
            self.region.close()
