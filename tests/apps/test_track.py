"""The processed track: newest frame only, off the event loop, timing kept."""

from __future__ import annotations

import asyncio
import fractions
import time
from concurrent.futures import ThreadPoolExecutor

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from apps.webrtc.filters import MarkOnlyFilter
from apps.webrtc.track import FilteredVideoTrack
from streamgan.media.yuv import Yuv420
from streamgan.safety.marking import OutputMark

TIME_BASE = fractions.Fraction(1, 90000)


class Burst(MediaStreamTrack):
    """``count`` frames every ``interval`` s; the frame's first luma value is its index."""

    kind = "video"

    def __init__(self, count: int, interval: float) -> None:
        super().__init__()
        self.count, self.interval, self.index = count, interval, 0

    async def recv(self) -> av.VideoFrame:
        if self.index == self.count:
            raise MediaStreamError
        await asyncio.sleep(self.interval)
        yuv = np.full((48, 64), self.index, np.uint8)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts, frame.time_base = 1000 + 3000 * self.index, TIME_BASE
        self.index += 1
        return frame


class SlowFilter:
    """Blocks its thread like face work does; records what it saw."""

    name = "slow"

    def __init__(self, seconds: float) -> None:
        self.seconds, self.seen, self.closed = seconds, [], False

    def process(self, frame: av.VideoFrame) -> Yuv420:
        time.sleep(self.seconds)
        yuv: Yuv420 = frame.to_ndarray(format="yuv420p")
        self.seen.append(int(yuv[0, 0]))
        return yuv

    def close(self) -> None:
        self.closed = True


def test_only_the_newest_frame_is_processed_and_the_loop_stays_free() -> None:
    slow = SlowFilter(0.05)  # 20 fps of work against 100 fps of frames

    async def run() -> tuple[list[av.VideoFrame], int, FilteredVideoTrack]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        ticking = asyncio.ensure_future(ticker())
        with ThreadPoolExecutor(max_workers=1) as executor:
            track = FilteredVideoTrack(Burst(60, 0.01), slow, executor)
            out = []
            with pytest.raises(MediaStreamError):
                while True:
                    out.append(await asyncio.wait_for(track.recv(), 5))
            track.stop()
        ticking.cancel()
        return out, ticks, track

    out, ticks, track = asyncio.run(run())
    indices = [int(f.to_ndarray(format="yuv420p")[0, 0]) for f in out]
    assert indices == slow.seen == sorted(set(indices))  # in order, none twice
    assert len(indices) < 30  # most frames were skipped, not queued
    assert track.stats.frames_received == 60
    assert track.stats.frames_dropped == 60 - len(indices)
    for frame, index in zip(out, indices, strict=True):
        assert frame.pts == 1000 + 3000 * index and frame.time_base == TIME_BASE
        assert frame.format.name == "yuv420p"
    assert ticks > 50  # the event loop ran all along (about 0.6 s at 5 ms)


def test_mark_only_filter_handles_odd_sizes_and_size_changes() -> None:
    mark = OutputMark.new(None)
    marker = MarkOnlyFilter(mark)
    for width, height in ((65, 49), (64, 48), (128, 96)):
        rgb = np.full((height, width, 3), 120, np.uint8)
        yuv = marker.process(av.VideoFrame.from_ndarray(rgb, format="rgb24"))
        assert yuv.shape == (height // 2 * 2 * 3 // 2, width // 2 * 2)
