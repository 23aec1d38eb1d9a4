"""One browser connection and everything it owns, released together.

A peer owns its RTCPeerConnection, its processed track (and so its tasks), its
filter and the two worker threads the filter's stages run on. :meth:`Peer.close`
runs on disconnect, ICE failure, a failed offer, a client that never connects
(:meth:`Peer.close_unless_connected`) and server shutdown, and is safe to call more
than once.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Callable

from aiortc import MediaStreamTrack, RTCConfiguration, RTCPeerConnection
from aiortc.contrib.media import MediaRelay

from apps.webrtc.filters import FrameFilter, make_filter
from apps.webrtc.styles import StyleCatalog
from apps.webrtc.targets import ConsentedTarget
from apps.webrtc.track import FilteredVideoTrack, StageThreads, TrackStats

log = logging.getLogger(__name__)


class Peer:
    """One client: its connection, its processed track, its worker threads."""

    def __init__(self, frame_filter: FrameFilter, threads: StageThreads) -> None:
        self.id = uuid.uuid4().hex[:12]
        """For the log: the log is the operator's, so this one is not secret."""
        self.key = secrets.token_urlsafe(18)
        """Given only to the client in the answer: ``GET /stats?peer=KEY`` shows this
        peer's counters to whoever holds it, and nobody else's."""
        self.filter = frame_filter
        self.threads = threads
        # No STUN: the server is reached directly (loopback page or the LAN).
        self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        self.video: FilteredVideoTrack | None = None
        self._relay = MediaRelay()
        self._closed = asyncio.Event()
        self._closing = False
        self._connected = asyncio.Event()
        self._watchdog: asyncio.Task[None] | None = None
        self.on_closed: Callable[[], object] | None = None
        """Called once the peer is closed (the server forgets it)."""
        self.pc.on("track", self._on_track)
        self.pc.on("connectionstatechange", self._on_state)

    @staticmethod
    async def create(filter_name: str, target: ConsentedTarget | None,
                     styles: StyleCatalog | None = None, style: str | None = None) -> Peer:
        """A peer whose filter was built on its own tracking thread (MediaPipe graphs
        are best used from the thread that made them)."""
        threads = StageThreads()
        loop = asyncio.get_running_loop()
        try:
            frame_filter = await loop.run_in_executor(threads.tracking, make_filter,
                                                      filter_name, target, styles, style)
        except BaseException:
            threads.close()
            raise
        return Peer(frame_filter, threads)

    @property
    def stats(self) -> TrackStats:
        return self.video.stats if self.video is not None else TrackStats(self.filter.name)

    @property
    def closed(self) -> asyncio.Event:
        return self._closed

    @property
    def connected(self) -> bool:
        """Whether ICE and DTLS ever completed (a peer not yet connected is pending)."""
        return self._connected.is_set()

    def close_unless_connected(self, seconds: float) -> None:
        """Close this peer if its client has not connected within ``seconds``: an
        answered offer holds a filter, two threads and sockets, and a client that
        never connects would otherwise keep them until ICE gives up (over a minute)."""
        self._watchdog = asyncio.ensure_future(self._expire(seconds))

    async def _expire(self, seconds: float) -> None:
        try:
            await asyncio.wait_for(self._connected.wait(), seconds)
        except TimeoutError:
            log.info("peer %s: no connection within %g s, closing it", self.id, seconds)
            await self.close()

    def _on_track(self, track: MediaStreamTrack) -> None:
        if track.kind == "video" and self.video is None:
            self.video = FilteredVideoTrack(track, self.filter, self.threads)
            self.pc.addTrack(self.video)
        elif track.kind == "audio":
            self.pc.addTrack(self._relay.subscribe(track))  # passed back as it came
        log.debug("peer %s: %s track", self.id, track.kind)

    async def _on_state(self) -> None:
        state = self.pc.connectionState
        log.info("peer %s: connection %s", self.id, state)
        if state == "connected":
            self._connected.set()
        if state in ("failed", "closed"):
            await self.close()

    async def close(self) -> None:
        if self._closing:
            await self._closed.wait()
            return
        self._closing = True
        if self._watchdog is not None and self._watchdog is not asyncio.current_task():
            self._watchdog.cancel()
        try:
            if self.video is not None:
                self.video.stop()
            await self.pc.close()
        finally:
            # The filter closes on its own thread, after any frame still in work.
            self.threads.close(self.filter)
            self._closed.set()
            if self.on_closed is not None:
                self.on_closed()
            log.info("peer %s closed", self.id)
