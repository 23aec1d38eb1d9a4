"""One browser connection and everything it owns, released together.

A peer owns its RTCPeerConnection, its processed track (and so the reader task),
its filter and the single worker thread the filter runs on. :meth:`Peer.close`
runs on disconnect, ICE failure, a failed offer and server shutdown, and is safe
to call more than once.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection
from aiortc.contrib.media import MediaRelay

from apps.webrtc.filters import FrameFilter, make_filter
from apps.webrtc.targets import ConsentedTarget
from apps.webrtc.track import FilteredVideoTrack, TrackStats

log = logging.getLogger(__name__)


class Peer:
    """One client: its connection, its processed track, its worker thread."""

    def __init__(self, frame_filter: FrameFilter, executor: ThreadPoolExecutor) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.filter = frame_filter
        self.executor = executor
        # No STUN: the server is reached directly (loopback page or the LAN).
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.video: FilteredVideoTrack | None = None
        self._relay = MediaRelay()
        self._closed = asyncio.Event()
        self._closing = False
        self.on_closed: Callable[[], object] | None = None
        """Called once the peer is closed (the server forgets it)."""
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    @staticmethod
    async def create(filter_name: str, target: ConsentedTarget | None) -> Peer:
        """A peer whose filter was built on its own worker thread (MediaPipe graphs
        are best used from the thread that made them)."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="streamgan-peer")
        loop = asyncio.get_running_loop()
        try:
            frame_filter = await loop.run_in_executor(executor, make_filter, filter_name,
                                                      target)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return Peer(frame_filter, executor)

    @property
    def stats(self) -> TrackStats:
        return self.video.stats if self.video is not None else TrackStats(self.filter.name)

    @property
    def closed(self) -> asyncio.Event:
        return self._closed

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video" and self.video is None:
            self.video = FilteredVideoTrack(track, self.filter, self.executor)
            self.pc.addTrack(self.video)
        elif track.kind == "audio":
            self.pc.addTrack(self._relay.subscribe(track))  # passed back as it came
        log.debug("peer %s: %s track", self.id, track.kind)

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        log.info("peer %s: connection %s", self.id, state)
        if state in ("failed", "closed"):
            await self.close()

    async def close(self) -> None:
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        try:
            if self.video is not None:
                self.video.stop()
            await self.pc.close()
        finally:
            # Close the filter on its own thread, after any frame still in work.
            self.executor.submit(self.filter.close)
            self.executor.shutdown(wait=False, cancel_futures=False)
            self._closed.set()
            if self.on_closed is not None:
                self.on_closed()
            log.info("peer %s closed", self.id)
