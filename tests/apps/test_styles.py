"""The ``style`` filter: a translation model on the camera, live, watermarked."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import av
import numpy as np
import pytest

from apps.webrtc import TargetCatalog
from apps.webrtc.client import LoopTrack, connect
from apps.webrtc.filters import StyleFilter, Tracked, make_filter
from apps.webrtc.offer import OfferError, parse_offer
from apps.webrtc.server import PEERS
from apps.webrtc.styles import LIVE_SIDE, StyleCatalog, load_styles
from streamgan.errors import InputError
from streamgan.translate.engine import EngineOptions, Translator
from streamgan.translate.formats import load_generator
from tests.apps.conftest import WAIT, receive, serving
from tests.apps.test_stream import marked, rgb
from tests.translate.conftest import save_fast_model

GOOD_SDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"


@pytest.fixture(scope="module")
def style_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_fast_model(tmp_path_factory.mktemp("style") / "inky.pt", seed=3)


@pytest.fixture(scope="module")
def styles(style_model: Path) -> StyleCatalog:
    return load_styles([str(style_model)])


def _expected(style_model: Path, frames: list[av.VideoFrame]) -> list[np.ndarray]:
    """What the model makes of each camera frame, run as the server runs it."""
    translator = Translator(load_generator(style_model), EngineOptions(size=LIVE_SIDE))
    return [translator([f.to_ndarray(format="rgb24")])[0].astype(np.float32) for f in frames]


def test_style_filter_translates_in_two_stages(styles: StyleCatalog, style_model: Path,
                                               driver_frames: list[av.VideoFrame]) -> None:
    style = make_filter("style", None, styles, "inky")
    assert isinstance(style, StyleFilter)
    try:
        expected = _expected(style_model, driver_frames[:3])
        for frame, want in zip(driver_frames[:3], expected, strict=True):
            tracked = style.track(frame)
            assert tracked.translated is not None
            small, output = tracked.translated
            assert max(small.shape[:2]) == LIVE_SIDE  # the network works small
            full = Translator.grow([output], frame.width, frame.height)[0]
            assert float(np.abs(full.astype(np.float32) - want).max()) <= 1
            picture = style.render(tracked)
            assert picture.shape == (frame.height * 3 // 2, frame.width)
        with pytest.raises(ValueError, match="translated"):
            style.render(Tracked(tracked.frame, tracked.image, 0.0))
    finally:
        style.close()


def test_style_stream_is_the_camera_translated_and_watermarked(
        catalog: TargetCatalog, styles: StyleCatalog, style_model: Path,
        driver_frames: list[av.VideoFrame]) -> None:
    async def run() -> list[av.VideoFrame]:
        async with serving(catalog, styles) as server:
            conn = await connect(str(server.make_url("/")), LoopTrack(driver_frames),
                                 "style", style="inky")
            try:
                frames = await receive(await asyncio.wait_for(conn.returned, WAIT), 30)
                assert server.app[PEERS][conn.peer].stats.filter == "style"
                return frames
            finally:
                await conn.close()

    frames = asyncio.run(run())
    got = [rgb(f) for f in frames[10:]]
    camera = [rgb(f) for f in driver_frames]
    styled = _expected(style_model, driver_frames)
    to_styled = [min(float(np.abs(g - s).mean()) for s in styled) for g in got]
    to_camera = [min(float(np.abs(g - c).mean()) for c in camera) for g in got]
    assert got[0].shape == camera[0].shape
    assert max(to_styled) < 12, to_styled  # the model's picture of the camera (VP8 noise)
    assert min(to_camera) > 25, to_camera  # not the camera's own
    assert marked(frames[-10:])


@pytest.mark.parametrize(("body", "status", "needle"), [
    ({"filter": "style", "style": "nope"}, 404, "unknown style"),
    ({"filter": "reenact", "style": "inky"}, 400, "only goes with"),
    ({"filter": "style", "target": "target"}, 400, "only goes with"),
])
def test_parse_offer_checks_styles(catalog: TargetCatalog, styles: StyleCatalog,
                                   body: dict[str, str], status: int, needle: str) -> None:
    data = json.dumps({"sdp": GOOD_SDP, "type": "offer", **body}).encode()
    with pytest.raises(OfferError) as caught:
        parse_offer(data, catalog, styles)
    assert caught.value.status == status and needle in caught.value.message


def test_style_needs_a_style_and_is_the_default_without_targets(styles: StyleCatalog) -> None:
    data = json.dumps({"sdp": GOOD_SDP, "type": "offer"}).encode()
    with pytest.raises(OfferError, match="no styles"):
        parse_offer(json.dumps({"sdp": GOOD_SDP, "type": "offer", "filter": "style"}).encode(),
                    TargetCatalog())
    offer = parse_offer(data, TargetCatalog(), styles)
    assert (offer.filter, offer.style) == ("style", "inky")


def test_targets_lists_the_styles(catalog: TargetCatalog, styles: StyleCatalog) -> None:
    import aiohttp

    async def run() -> dict[str, list[str]]:
        async with serving(catalog, styles) as server, aiohttp.ClientSession() as session:
            async with session.get(str(server.make_url("/targets"))) as response:
                listed: dict[str, list[str]] = await response.json()
                return listed

    assert asyncio.run(run()) == {"targets": ["target"], "styles": ["inky"]}


def test_a_bad_style_stops_the_server_before_it_listens(tmp_path: Path) -> None:
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="not a readable checkpoint"):
        load_styles([str(bad)])
    with pytest.raises(InputError, match="unknown model"):
        load_styles(["no-such-style"])
    import torch

    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA"):
            load_styles(["toon"], device="cuda")
