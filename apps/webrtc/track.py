"""The processed video track: newest frame only, face work off the event loop.

A reader task keeps pulling frames from the remote track into a one-frame slot,
overwriting (and counting) frames the worker had no time for, so a slow filter
lowers the frame rate but never lets latency grow. ``recv`` hands the newest frame
to the peer's single worker thread and returns the result with the incoming
frame's pts and time base.
"""

from __future__ import annotations

import asyncio
import logging
import time
from concurrent.futures import Executor
from dataclasses import asdict, dataclass

import av
from aiortc import MediaStreamTrack, VideoStreamTrack
from aiortc.mediastreams import MediaStreamError

from apps.webrtc.filters import FrameFilter

log = logging.getLogger(__name__)


@dataclass
class TrackStats:
    """Counters for one peer's video, served by ``GET /stats``."""

    filter: str = ""
    frames_received: int = 0
    frames_sent: int = 0
    frames_dropped: int = 0
    """Received frames replaced in the slot by a newer one before being processed."""
    process_ms: float = 0.0
    """Worker time of the last frame (conversion, tracking, rendering, watermark)."""
    wait_ms: float = 0.0
    """How long the last processed frame waited in the slot."""

    def as_dict(self) -> dict[str, float | int | str]:
        return asdict(self)


class FilteredVideoTrack(VideoStreamTrack):
    """Frames of ``source`` through ``frame_filter`` on ``executor`` (one thread)."""

    def __init__(self, source: MediaStreamTrack, frame_filter: FrameFilter,
                 executor: Executor) -> None:
        super().__init__()
        self._source = source
        self._filter = frame_filter
        self._executor = executor
        self._slot: tuple[av.VideoFrame, float] | None = None
        self._fresh = asyncio.Event()
        self._source_ended = False
        self.stats = TrackStats(filter=frame_filter.name)
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        try:
            while True:
                frame = await self._source.recv()
                if not isinstance(frame, av.VideoFrame):
                    continue
                self.stats.frames_received += 1
                if self._slot is not None:
                    self.stats.frames_dropped += 1
                self._slot = (frame, time.monotonic())
                self._fresh.set()
        except MediaStreamError:
            log.debug("remote video track ended")
        finally:
            self._source_ended = True
            self._fresh.set()

    async def recv(self) -> av.VideoFrame:
        while self._slot is None:
            if self._source_ended or self.readyState != "live":
                raise MediaStreamError
            self._fresh.clear()
            await self._fresh.wait()
        frame, arrived = self._slot
        self._slot = None
        started = time.monotonic()
        loop = asyncio.get_running_loop()
        out = await loop.run_in_executor(self._executor, self._process, frame)
        done = time.monotonic()
        self.stats.wait_ms = (started - arrived) * 1000.0
        self.stats.process_ms = (done - started) * 1000.0
        self.stats.frames_sent += 1
        return out

    def _process(self, frame: av.VideoFrame) -> av.VideoFrame:
        """On the worker thread: filter, then wrap as a yuv420p frame, same timing."""
        out = av.VideoFrame.from_ndarray(self._filter.process(frame), format="yuv420p")
        out.pts = frame.pts
        out.time_base = frame.time_base
        return out

    def stop(self) -> None:
        super().stop()
        self._reader.cancel()
        self._fresh.set()
