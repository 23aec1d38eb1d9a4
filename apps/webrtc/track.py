"""The processed video track: frames in order, late ones dropped, face work off the
event loop.

A reader task keeps pulling frames from the remote track into a short queue. The
pump takes them in order, but drops (and counts) a frame that has waited over
MAX_WAIT_S while a newer one waits, and the oldest when more than MAX_WAITING wait:
a burst of frames (a network or scheduling hiccup upstream delivers a few at once,
then none) is caught up instead of cut to its last frame, yet a slow filter only
lowers the frame rate and never lets latency grow. With a one-frame slot, such
bursts cost a 24 fps stream a quarter of its frames with most of a core idle.

The pump runs the filter's two stages on the peer's two threads, one frame apart: it
tracks frame n+1 while frame n renders, so on two cores a frame takes about the
longer stage's time, not both stages'. It never works more than one frame ahead,
and takes no new frame while a finished one still waits for ``recv``, so nothing
queues up. When rendering is the slower stage (the filter cannot keep up), the next
frame is taken just in time to be tracked as the render before it ends, and it is
the newest frame waiting: the frames before it are dropped. Frames go out in order,
with the incoming frame's pts and time base.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import sys
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import av
from aiortc import MediaStreamTrack, VideoStreamTrack
from aiortc.mediastreams import MediaStreamError

from apps.webrtc.filters import FrameFilter, Tracked

log = logging.getLogger(__name__)

MARGIN_S = 0.003
"""Slack when taking a frame just in time: tracking may run this much longer than usual."""
SMOOTHING = 0.2
"""Weight of the newest stage time in the running estimates."""
MAX_WAIT_S = 0.05
"""A frame that waited this long is dropped when a newer one waits behind it: the
most a burst may add to latency."""
MAX_WAITING = 4
"""Frames kept waiting at most; the oldest goes when another arrives."""


@dataclass
class TrackStats:
    """Counters for one peer's video, served by ``GET /stats``."""

    filter: str = ""
    frames_received: int = 0
    frames_sent: int = 0
    frames_dropped: int = 0
    """Received frames never processed: they waited too long while newer ones came."""
    frames_without_face: int = 0
    """Processed frames in which the filter found no face (it holds the last pose): a
    user out of frame or badly lit sees this rise."""
    process_ms: float = 0.0
    """From taking the last frame out of the slot until it was rendered: tracking,
    waiting for the frame before it to render, rendering and watermark."""
    track_ms: float = 0.0
    """Stage one of the last frame (conversion, tracking)."""
    render_ms: float = 0.0
    """Stage two of the last frame (rendering, watermark, wrapping as a frame)."""
    wait_ms: float = 0.0
    """How long the last processed frame waited in the slot."""

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


class StageThreads:
    """One peer's two worker threads: stage one (tracking) and stage two (rendering).

    The filter is made and closed on the tracking thread: MediaPipe graphs are best
    used from the thread that made them.
    """

    def __init__(self) -> None:
        self.tracking = ThreadPoolExecutor(max_workers=1, thread_name_prefix="streamgan-track")
        self.rendering = ThreadPoolExecutor(max_workers=1,
                                            thread_name_prefix="streamgan-render")

    def close(self, frame_filter: FrameFilter | None = None) -> None:
        """End both threads once the frames in work are done, then close ``frame_filter``
        on the tracking thread. Never blocks the caller (the event loop)."""
        self.rendering.shutdown(wait=False)
        if frame_filter is not None:
            def close_filter() -> None:
                self.rendering.shutdown(wait=True)  # a render still running ends first
                frame_filter.close()
                return_freed_memory()

            self.tracking.submit(close_filter)
        self.tracking.shutdown(wait=False)


def return_freed_memory() -> None:
    """Give the memory a closed peer freed back to the system (glibc only). A peer's
    filter and threads free tens of MB in many small blocks that glibc otherwise
    keeps: 30 expired offers left the server 700 MB over its baseline, not 130."""
    if not sys.platform.startswith("linux"):
        return
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        pass


@dataclass(frozen=True)
class _Rendered:
    frame: av.VideoFrame
    seconds: float


class FilteredVideoTrack(VideoStreamTrack):
    """Frames of ``source`` through ``frame_filter``, its stages on ``threads``."""

    def __init__(self, source: MediaStreamTrack, frame_filter: FrameFilter,
                 threads: StageThreads) -> None:
        super().__init__()
        self._source = source
        self._filter = frame_filter
        self._threads = threads
        self._queued: deque[tuple[av.VideoFrame, float]] = deque()
        """Received frames not yet taken, oldest first, with their arrival times."""
        self._fresh = asyncio.Event()
        self._source_ended = False
        self._out: asyncio.Queue[av.VideoFrame | BaseException | None] = asyncio.Queue(1)
        self._finished = False
        self._track_s = 0.0
        self._render_s = 0.0
        """Running estimates of the stages' wall times."""
        self._render_began = 0.0
        self.stats = TrackStats(filter=frame_filter.name)
        self._reader = asyncio.ensure_future(self._read())
        self._pump = asyncio.ensure_future(self._run())

    async def _read(self) -> None:
        try:
            while True:
                frame = await self._source.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                self.stats.frames_received += 1
                self._queued.append((frame, time.monotonic()))
                if len(self._queued) > MAX_WAITING:
                    self._queued.popleft()
                    self.stats.frames_dropped += 1
                self._fresh.set()
        except MediaStreamError:
            log.debug("remote video track ended")
        finally:
            self._source_ended = True
            self._fresh.set()

    async def _take(self, newest: bool = False) -> av.VideoFrame | None:
        """The next frame to process, waiting for one; None once the source ended.
        That is the oldest waiting frame unless a newer one waits and it is late
        (MAX_WAIT_S), or the newest one when ``newest``; those before it are dropped."""
        while not self._queued:
            if self._source_ended:
                return None
            self._fresh.clear()
            await self._fresh.wait()
        now = time.monotonic()
        while len(self._queued) > 1 and (newest or now - self._queued[0][1] > MAX_WAIT_S):
            self._queued.popleft()
            self.stats.frames_dropped += 1
        frame, arrived = self._queued.popleft()
        self.stats.wait_ms = (now - arrived) * 1000.0
        return frame

    async def _run(self) -> None:
        """The pump: stage one of frame n+1 overlaps stage two of frame n."""
        loop = asyncio.get_running_loop()
        finishing: asyncio.Task[None] | None = None
        try:
            while True:
                # A finished frame still waiting for recv: take no newer one yet.
                await self._out.join()
                behind = False
                if finishing is not None and not finishing.done():
                    behind = await self._until_tracking_is_due(finishing)
                frame = await self._take(newest=behind)
                if frame is None:
                    break
                taken = time.monotonic()
                tracked = await loop.run_in_executor(self._threads.tracking,
                                                     self._filter.track, frame)
                self._track_s = _smooth(self._track_s, time.monotonic() - taken)
                self.stats.track_ms = (time.monotonic() - taken) * 1000.0
                if tracked.track is not None and not tracked.track.detected:
                    self.stats.frames_without_face += 1
                if finishing is not None:
                    await finishing  # frame n rendered and handed on: n+1 may render
                self._render_began = time.monotonic()  # before the loop asks, below
                finishing = asyncio.ensure_future(self._finish(tracked, taken))
            if finishing is not None:
                await finishing
            await self._out.put(None)
        except asyncio.CancelledError:
            if finishing is not None:
                finishing.cancel()
            raise
        except Exception as error:  # raised to the sender, in order after earlier frames
            await self._out.put(error)

    async def _until_tracking_is_due(self, finishing: asyncio.Future[None]) -> bool:
        """Wait while the render in progress still needs longer than tracking takes, so
        that the next frame is taken as late (as fresh) as keeps the renderer busy;
        whether rendering is the slower stage (then only the newest frame is worth
        taking)."""
        remaining = self._render_s - (time.monotonic() - self._render_began)
        lead = remaining - self._track_s - MARGIN_S
        if lead <= 0:
            return False
        await asyncio.wait({finishing}, timeout=lead)
        return True

    async def _finish(self, tracked: Tracked, taken: float) -> None:
        """Stage two of one frame, handed to ``recv`` as soon as it is done."""
        loop = asyncio.get_running_loop()
        rendered = await loop.run_in_executor(self._threads.rendering, self._render, tracked)
        self._render_s = _smooth(self._render_s, time.monotonic() - self._render_began)
        self.stats.render_ms = rendered.seconds * 1000.0
        self.stats.process_ms = (time.monotonic() - taken) * 1000.0
        await self._out.put(rendered.frame)

    def _render(self, tracked: Tracked) -> _Rendered:
        """On the rendering thread: stage two, wrapped as a yuv420p frame, same timing."""
        began = time.monotonic()
        out = av.VideoFrame.from_ndarray(self._filter.render(tracked), format="yuv420p")
        out.pts = tracked.frame.pts
        out.time_base = tracked.frame.time_base
        return _Rendered(out, time.monotonic() - began)

    async def recv(self) -> av.VideoFrame:
        if self._finished or self.readyState != "live":
            raise MediaStreamError
        item = await self._out.get()
        self._out.task_done()
        if isinstance(item, av.VideoFrame):
            self.stats.frames_sent += 1
            return item
        self._finished = True
        raise item or MediaStreamError()

    def stop(self) -> None:
        super().stop()
        self._reader.cancel()
        self._pump.cancel()
        self._fresh.set()
        while not self._out.empty():
            self._out.get_nowait()
            self._out.task_done()
        self._out.put_nowait(None)  # a recv waiting now ends


def _smooth(estimate: float, seconds: float) -> float:
    return seconds if estimate == 0.0 else (1 - SMOOTHING) * estimate + SMOOTHING * seconds
