"""The web app's fixtures: the sample target loaded once, driver frames, a server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import av
import pytest

from tests.conftest import SAMPLE_TRUST, SAMPLES

pytest.importorskip("aiortc")

from aiohttp.test_utils import TestServer  # noqa: E402
from aiortc import MediaStreamTrack  # noqa: E402

from apps.webrtc import TargetCatalog, create_app, load_catalog  # noqa: E402
from apps.webrtc.styles import StyleCatalog  # noqa: E402

SAMPLE_TARGET = SAMPLES / "target.png"
WAIT = 20.0
"""Upper bound for any single wait on the network (ICE failures are silent)."""


@pytest.fixture(scope="session")
def catalog() -> TargetCatalog:
    """The sample target, consent-checked for ``stream`` and prepared once."""
    return load_catalog([SAMPLE_TARGET], [SAMPLE_TRUST])


@pytest.fixture(scope="session")
def driver_frames() -> list[av.VideoFrame]:
    """The first 40 frames of the sample driver (640x360), sent in a loop."""
    with av.open(str(SAMPLES / "driver.mp4")) as container:
        frames = []
        for frame in container.decode(video=0):
            frames.append(frame.reformat(format="yuv420p"))
            if len(frames) == 40:
                break
    return frames


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every ICE candidate in these tests is 127.0.0.1: no traffic leaves loopback."""
    import aioice.ice

    from apps.webrtc.ice import loopback_addresses

    monkeypatch.setattr(aioice.ice, "get_host_addresses", loopback_addresses)


@asynccontextmanager
async def serving(catalog: TargetCatalog, styles: StyleCatalog | None = None
                  ) -> AsyncIterator[TestServer]:
    """The app on 127.0.0.1, an ephemeral port."""
    server = TestServer(create_app(catalog, styles), host="127.0.0.1")
    await server.start_server()
    try:
        yield server
    finally:
        await asyncio.wait_for(server.close(), WAIT)


async def receive(track: MediaStreamTrack, count: int) -> list[av.VideoFrame]:
    """``count`` frames from ``track``, each wait bounded."""
    frames = []
    for _ in range(count):
        frame = await asyncio.wait_for(track.recv(), WAIT)
        assert isinstance(frame, av.VideoFrame)
        frames.append(frame)
    return frames
