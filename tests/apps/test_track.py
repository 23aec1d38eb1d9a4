"""The processed track: frames in order with late ones dropped, a burst caught up, two
stages one frame apart, off the event loop, timing kept, threads ended on close."""

from __future__ import annotations

import asyncio
import fractions
import threading
import time

import av
import numpy as np
import pytest
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from apps.webrtc.filters import MarkOnlyFilter, Tracked
from apps.webrtc.track import FilteredVideoTrack, StageThreads
from streamgan.media.yuv import Yuv420
from streamgan.safety.marking import OutputMark
from streamgan.tracking.tracker import Track

TIME_BASE = fractions.Fraction(1, 90000)


class Burst(MediaStreamTrack):
    """``count`` frames every ``interval`` s; the frame's first luma value is its index."""

    kind = "video"

    def __init__(self, count: int, interval: float) -> None:
        super().__init__()
        self.count, self.interval, self.index = count, interval, 0
        self.sent_at: list[float] = []

    async def recv(self) -> av.VideoFrame:
        if self.index == self.count:
            raise MediaStreamError
        await asyncio.sleep(self.interval)
        return self.next_frame()

    def next_frame(self) -> av.VideoFrame:
        yuv = np.full((48, 64), self.index, np.uint8)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts, frame.time_base = 1000 + 3000 * self.index, TIME_BASE
        self.index += 1
        self.sent_at.append(time.monotonic())
        return frame


class SlowFilter:
    """Blocks its threads like face work does; records what each stage saw, and when."""

    name = "slow"

    def __init__(self, track_s: float, render_s: float, fail_at: int | None = None) -> None:
        self.track_s, self.render_s, self.fail_at = track_s, render_s, fail_at
        self.tracked: list[tuple[int, float, float]] = []
        """(index, start, end) per stage-one call; ``rendered`` likewise."""
        self.rendered: list[tuple[int, float, float]] = []
        self.threads: set[threading.Thread] = set()
        self.closed_on: threading.Thread | None = None
        self.closed_after_renders = -1

    def track(self, frame: av.VideoFrame) -> Tracked:
        began = time.monotonic()
        self.threads.add(threading.current_thread())
        time.sleep(self.track_s)
        yuv = np.asarray(frame.to_ndarray(format="yuv420p"), np.uint8)
        self.tracked.append((int(yuv[0, 0]), began, time.monotonic()))
        return Tracked(frame, yuv, 0.0)

    def render(self, tracked: Tracked) -> Yuv420:
        began = time.monotonic()
        self.threads.add(threading.current_thread())
        time.sleep(self.render_s)
        index = int(tracked.image[0, 0])
        if index == self.fail_at:
            raise ValueError("render failed")
        self.rendered.append((index, began, time.monotonic()))
        return tracked.image

    def close(self) -> None:
        self.closed_on = threading.current_thread()
        self.closed_after_renders = len(self.rendered)


def index_of(frame: av.VideoFrame) -> int:
    return int(frame.to_ndarray(format="yuv420p")[0, 0])


async def drain(track: FilteredVideoTrack, pause: float = 0.0) -> list[av.VideoFrame]:
    """Every frame ``track`` returns until its source ends, ``pause`` s apart."""
    out = []
    with pytest.raises(MediaStreamError):
        while True:
            out.append(await asyncio.wait_for(track.recv(), 5))
            await asyncio.sleep(pause)
    return out


def run_track(source: MediaStreamTrack, slow: SlowFilter, pause: float = 0.0
              ) -> tuple[list[av.VideoFrame], FilteredVideoTrack, int]:
    """Frames of ``source`` through ``slow``; also counts event-loop ticks of 5 ms."""

    async def run() -> tuple[list[av.VideoFrame], FilteredVideoTrack, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        ticking = asyncio.ensure_future(ticker())
        threads = StageThreads()
        try:
            track = FilteredVideoTrack(source, slow, threads)
            out = await drain(track, pause)
            track.stop()
        finally:
            threads.close(slow)
        ticking.cancel()
        return out, track, ticks

    return asyncio.run(run())


def test_only_the_newest_frame_is_processed_in_order_and_the_loop_stays_free() -> None:
    slow = SlowFilter(0.03, 0.05)  # 20 fps of work against 100 fps of frames
    out, track, ticks = run_track(Burst(60, 0.01), slow)
    indices = [index_of(f) for f in out]
    assert indices == [i for i, _, _ in slow.tracked] == [i for i, _, _ in slow.rendered]
    assert indices == sorted(set(indices))  # in order, none twice
    assert len(indices) < 30  # most frames were skipped, not queued
    assert track.stats.frames_received == 60
    assert track.stats.frames_dropped == 60 - len(indices)
    assert track.stats.frames_sent == len(indices)
    for frame, index in zip(out, indices, strict=True):
        assert frame.pts == 1000 + 3000 * index and frame.time_base == TIME_BASE
        assert frame.format.name == "yuv420p"
    assert ticks > 50  # the event loop ran all along (about 0.6 s at 5 ms)


def test_stages_overlap_but_never_run_more_than_one_frame_ahead() -> None:
    slow = SlowFilter(0.04, 0.04)  # 12.5 fps one after the other, 25 fps overlapped
    out, track, _ = run_track(Burst(150, 0.01), slow)
    assert len(out) > 0.75 * 1.5 / 0.04, len(out)  # about 1.5 s of frames at 25 fps
    assert track.stats.track_ms >= 40 and track.stats.render_ms >= 40
    starts = {i: began for i, began, _ in slow.tracked}
    ends = {i: end for i, _, end in slow.rendered}
    order = [i for i, _, _ in slow.tracked]
    overlapped = 0
    for before, previous, index in zip(order, order[1:], order[2:], strict=False):
        # Frame n+1 is tracked only once frame n-1 has rendered: at most two in work.
        assert starts[index] >= ends[before]
        overlapped += starts[index] < ends[previous]
    assert overlapped > 0.8 * (len(order) - 2)
    assert len(slow.threads) == 2  # one thread per stage


def test_a_frame_goes_out_once_rendered_not_when_the_next_one_arrives() -> None:
    slow = SlowFilter(0.02, 0.02)
    source = Burst(6, 0.3)  # a camera far slower than the filter

    async def run() -> list[float]:
        threads = StageThreads()
        track = FilteredVideoTrack(source, slow, threads)
        latencies = []
        try:
            with pytest.raises(MediaStreamError):
                while True:
                    frame = await asyncio.wait_for(track.recv(), 5)
                    latencies.append(time.monotonic() - source.sent_at[index_of(frame)])
        finally:
            track.stop()
            threads.close(slow)
        return latencies

    latencies = asyncio.run(run())
    assert len(latencies) == 6
    assert max(latencies) < 0.2, latencies  # both stages (0.04 s), not the next frame's 0.3 s


def test_a_slow_receiver_gets_fresh_frames_and_nothing_queues() -> None:
    slow = SlowFilter(0.005, 0.005)
    source = Burst(150, 0.01)

    async def run() -> tuple[list[int], FilteredVideoTrack]:
        threads = StageThreads()
        track = FilteredVideoTrack(source, slow, threads)
        lags = []
        try:
            with pytest.raises(MediaStreamError):
                while True:
                    frame = await asyncio.wait_for(track.recv(), 5)
                    lags.append(source.index - index_of(frame))
                    await asyncio.sleep(0.1)  # a receiver at 10 fps
        finally:
            track.stop()
            threads.close(slow)
        return lags, track

    lags, track = asyncio.run(run())
    # A frame is taken once the one before it is received, and waits at most a
    # period (about 10 frames) for its own turn: about 20 frames behind, steadily.
    # A queue would fall 9 frames further behind every period.
    assert max(lags) <= 30, lags
    assert len(slow.rendered) < 25
    assert track.stats.frames_dropped == 150 - len(slow.tracked)


def test_an_error_in_a_stage_reaches_recv_after_the_frames_before_it() -> None:
    slow = SlowFilter(0.0, 0.0, fail_at=5)

    async def run() -> tuple[list[int], FilteredVideoTrack]:
        threads = StageThreads()
        track = FilteredVideoTrack(Burst(20, 0.02), slow, threads)
        got = []
        try:
            with pytest.raises(ValueError, match="render failed"):
                while True:
                    got.append(index_of(await asyncio.wait_for(track.recv(), 5)))
            with pytest.raises(MediaStreamError):
                await asyncio.wait_for(track.recv(), 5)
        finally:
            track.stop()
            threads.close(slow)
        return got, track

    got, track = asyncio.run(run())
    assert got == [0, 1, 2, 3, 4]
    assert track.readyState == "ended"


def test_closing_waits_for_the_frame_in_work_and_ends_both_threads() -> None:
    slow = SlowFilter(0.0, 0.5)

    async def run() -> None:
        threads = StageThreads()
        track = FilteredVideoTrack(Burst(100, 0.01), slow, threads)
        await asyncio.sleep(0.1)  # the first frame is rendering now
        track.stop()
        threads.close(slow)  # returns at once; the render finishes first
        with pytest.raises(MediaStreamError):
            await track.recv()

    began = time.monotonic()
    asyncio.run(run())
    assert time.monotonic() - began < 0.4  # closing did not wait for the render
    assert len(slow.threads) == 2
    for thread in slow.threads:
        thread.join(5)
        assert not thread.is_alive()
    assert slow.closed_on is not None and slow.closed_on.name.startswith("streamgan-track")
    assert slow.closed_after_renders == len(slow.rendered) == 1


def test_mark_only_filter_handles_odd_sizes_and_size_changes() -> None:
    mark = OutputMark.new(None)
    marker = MarkOnlyFilter(mark)
    for width, height in ((65, 49), (64, 48), (128, 96)):
        rgb = np.full((height, width, 3), 120, np.uint8)
        yuv = marker.render(marker.track(av.VideoFrame.from_ndarray(rgb, format="rgb24")))
        assert yuv.shape == (height // 2 * 2 * 3 // 2, width // 2 * 2)


def test_when_rendering_is_slower_the_next_frame_is_taken_just_in_time() -> None:
    slow = SlowFilter(0.01, 0.06)  # frames every 5 ms: a later take is a fresher frame
    out, track, _ = run_track(Burst(200, 0.005), slow)
    render_start = {i: began for i, began, _ in slow.rendered}
    order = [i for i, _, _ in slow.tracked]
    leads = [starts - render_start[previous]
             for previous, (_, starts, _) in zip(order, slow.tracked[1:], strict=False)]
    # Once the estimates settle, tracking of n+1 starts about 0.06 - 0.01 s after the
    # render of n began, not at once; the renderer still never waits long.
    settled = leads[5:]
    assert settled and np.median(settled) > 0.035, settled
    gaps = [b - e for (_, _, e), (_, b, _) in zip(slow.rendered, slow.rendered[1:],
                                                  strict=False)][5:]
    assert np.median(gaps) < 0.02, gaps
    assert len(out) > 0.6 * (200 * 0.005) / 0.06


class FacelessFilter(SlowFilter):
    """Finds a face only in even-numbered frames."""

    def track(self, frame: av.VideoFrame) -> Tracked:
        tracked = super().track(frame)
        index = int(tracked.image[0, 0])
        return Tracked(frame, tracked.image, 0.0, Track(None, index % 2 == 0, 0.0))


def test_frames_without_a_face_are_counted() -> None:
    faceless = FacelessFilter(0.0, 0.0)
    out, track, _ = run_track(Burst(20, 0.01), faceless)
    processed = [i for i, _, _ in faceless.tracked]
    assert len(processed) > 10
    assert track.stats.frames_without_face == sum(i % 2 for i in processed)
    assert track.stats.as_dict()["frames_without_face"] == track.stats.frames_without_face


class Clumped(Burst):
    """Frames at ``interval`` on average, but delivered ``group`` at a time, as after a
    hiccup upstream (a decoder thread or the network stalling, then catching up)."""

    def __init__(self, count: int, interval: float, group: int) -> None:
        super().__init__(count, interval)
        self.group = group

    async def recv(self) -> av.VideoFrame:
        if self.index == self.count:
            raise MediaStreamError
        if self.index % self.group == 0:
            await asyncio.sleep(self.interval * self.group)
        else:
            await asyncio.sleep(0)
        return self.next_frame()


def test_a_burst_of_frames_is_caught_up_not_dropped() -> None:
    """24 fps arriving three at a time, with a filter good for 100 fps: every frame goes
    out, in order, each waiting well under MAX_WAIT_S (a one-frame slot kept one in
    three)."""
    slow = SlowFilter(0.005, 0.005)
    out, track, _ = run_track(Clumped(48, 1 / 24, 3), slow)
    assert [index_of(f) for f in out] == list(range(48))
    assert track.stats.frames_dropped == 0


def test_late_frames_are_still_dropped_when_the_filter_cannot_keep_up() -> None:
    """Equal stages slower than the camera: frames are dropped, the rest go out in
    order, and none of them waited much over MAX_WAIT_S (latency does not grow)."""
    from apps.webrtc.track import MAX_WAIT_S

    slow = SlowFilter(0.03, 0.03)  # 33 fps of work against 100 fps of frames
    source = Burst(100, 0.01)
    out, track, _ = run_track(source, slow)
    indices = [index_of(f) for f in out]
    assert indices == sorted(set(indices))
    assert track.stats.frames_dropped == 100 - len(indices) > 40
    starts = {i: began for i, began, _ in slow.tracked}
    waits = [starts[i] - source.sent_at[i] for i in indices[3:]]
    assert max(waits) < MAX_WAIT_S + 0.04, waits
