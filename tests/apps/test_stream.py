"""A client peer streams the sample driver to the server and gets the target back."""

from __future__ import annotations

import asyncio

import av
import numpy as np
from numpy.typing import NDArray

from apps.webrtc import TargetCatalog
from apps.webrtc.client import LoopTrack, connect
from apps.webrtc.server import PEERS
from streamgan.media import read_image
from streamgan.safety.watermark import WatermarkDetector, WatermarkKey
from tests.apps.conftest import SAMPLE_TARGET, WAIT, receive, serving


def rgb(frame: av.VideoFrame) -> NDArray[np.float32]:
    return np.asarray(frame.to_ndarray(format="rgb24"), np.float32)


def marked(frames: list[av.VideoFrame]) -> bool:
    detector = WatermarkDetector(WatermarkKey.load_or_create())
    for frame in frames:
        detector.add_luma(frame.to_ndarray(format="yuv420p")[: frame.height])
    return detector.result().present


def test_reenact_stream_is_the_target_moving_and_watermarked(
        catalog: TargetCatalog, driver_frames: list[av.VideoFrame]) -> None:
    target = np.asarray(read_image(SAMPLE_TARGET), np.float32)
    sent = [rgb(f) for f in driver_frames]

    async def run() -> tuple[list[av.VideoFrame], int, int]:
        async with serving(catalog) as server:
            conn = await connect(str(server.make_url("/")), LoopTrack(driver_frames),
                                 "reenact", "target")
            try:
                track = await asyncio.wait_for(conn.returned, WAIT)
                frames = await receive(track, 40)
                faceless = server.app[PEERS][conn.peer].stats.frames_without_face
            finally:
                await conn.close()
            peers = server.app[PEERS]
            for _ in range(100):  # the server notices the hang-up and cleans up
                if not peers:
                    break
                await asyncio.sleep(0.05)
            return frames, len(peers), faceless

    frames, peers_left, faceless = asyncio.run(run())
    assert peers_left == 0
    assert faceless == 0  # the driver's face was found in every frame
    got = [rgb(f) for f in frames[10:]]
    assert got[0].shape == target.shape  # the target's size, not the camera's
    to_target = max(float(np.abs(g - target).mean()) for g in got)
    to_driver = min(float(np.abs(g - s).mean()) for g in got for s in sent[::8])
    assert to_target < 15, to_target  # the target's picture (face moved, VP8 noise)
    assert to_driver > 40, to_driver  # not the driver's
    moving = max(float(np.abs(g - got[0]).mean()) for g in got)
    assert moving > 1.0, moving  # the face follows the driver
    assert marked(frames[-10:])


def test_none_filter_still_watermarks(catalog: TargetCatalog,
                                      driver_frames: list[av.VideoFrame]) -> None:
    async def run() -> list[av.VideoFrame]:
        async with serving(catalog) as server:
            conn = await connect(str(server.make_url("/")), LoopTrack(driver_frames), "none")
            try:
                return await receive(await asyncio.wait_for(conn.returned, WAIT), 20)
            finally:
                await conn.close()

    frames = asyncio.run(run())
    first = rgb(frames[-1])
    assert min(float(np.abs(first - rgb(s)).mean()) for s in driver_frames) < 12
    assert marked(frames[-10:])
