"""A Python WebRTC client for the server: what tests and the latency benchmark use
instead of a browser. It sends one video track and receives the processed one.
"""

from __future__ import annotations

import asyncio
import fractions
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
import av
from aiortc import (
    MediaStreamTrack,
    RTCConfiguration,
    RTCPeerConnection,
    RTCSessionDescription,
    VideoStreamTrack,
)

VIDEO_TIME_BASE = fractions.Fraction(1, 90000)


class LoopTrack(VideoStreamTrack):
    """Sends the given frames over and over at ``fps``, paced by the clock."""

    def __init__(self, frames: Sequence[av.VideoFrame], fps: float = 30.0) -> None:
        super().__init__()
        if not frames:
            raise ValueError("no frames to send")
        self.frames = list(frames)
        self.fps = fps
        self.sent = 0
        self._began: float | None = None

    async def recv(self) -> av.VideoFrame:
        now = time.monotonic()
        if self._began is None:
            self._began = now
        due = self._began + self.sent / self.fps
        if due > now:
            await asyncio.sleep(due - now)
        frame = self.frames[self.sent % len(self.frames)]
        out = av.VideoFrame.from_ndarray(frame.to_ndarray(format="yuv420p"), format="yuv420p")
        out.pts = round(self.sent * 90000 / self.fps)
        out.time_base = VIDEO_TIME_BASE
        self.sent += 1
        return out


@dataclass
class Connection:
    """A connected client: its peer connection, the returned track, the server's id."""

    pc: RTCPeerConnection
    peer: str
    returned: asyncio.Future[MediaStreamTrack]

    async def close(self) -> None:
        await self.pc.close()


async def video_offer_sdp() -> str:
    """A real aiortc offer sending video (VP8/H264, ICE credentials, fingerprints), for
    probing the server's offer handling without a media track."""
    pc = RTCPeerConnection()
    pc.addTransceiver("video", direction="sendrecv")
    await pc.setLocalDescription(await pc.createOffer())
    sdp: str = pc.localDescription.sdp
    await pc.close()
    return sdp


async def post_offer(session: aiohttp.ClientSession, url: str,
                     body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with session.post(url, json=body) as response:
        return response.status, await response.json()


async def connect(base_url: str, track: MediaStreamTrack, filter_name: str,
                  target: str | None = None, style: str | None = None) -> Connection:
    """Offer ``track`` to the server at ``base_url`` and return once answered; await
    ``returned`` (with a timeout: ICE failures are silent) for the processed track."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    loop = asyncio.get_running_loop()
    returned: asyncio.Future[MediaStreamTrack] = loop.create_future()

    def on_track(remote: MediaStreamTrack) -> None:
        if remote.kind == "video" and not returned.done():
            returned.set_result(remote)

    pc.on("track", on_track)
    pc.addTrack(track)
    try:
        await pc.setLocalDescription(await pc.createOffer())
        body: dict[str, Any] = {"sdp": pc.localDescription.sdp,
                                "type": pc.localDescription.type, "filter": filter_name}
        if target is not None:
            body["target"] = target
        if style is not None:
            body["style"] = style
        async with aiohttp.ClientSession() as session:
            status, answer = await post_offer(session, base_url.rstrip("/") + "/offer", body)
        if status != 200:
            raise RuntimeError(f"offer refused ({status}): {answer.get('error')}")
        await pc.setRemoteDescription(RTCSessionDescription(answer["sdp"], answer["type"]))
    except BaseException:
        await pc.close()
        raise
    return Connection(pc, str(answer["peer"]), returned)
