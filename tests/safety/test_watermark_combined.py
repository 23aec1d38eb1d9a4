"""The watermark under combined attacks (a re-shared clip: smaller and re-encoded at once),
and ``detect_file`` reading as many frames as it needs."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from numpy.typing import NDArray

from streamgan.media.yuv import planes
from streamgan.safety.watermark import (
    WatermarkEmbedder,
    WatermarkKey,
    WatermarkPayload,
    detect_file,
    detect_lumas,
)
from streamgan.safety.watermark_detect import FIRST_CHECK, _lattice_scores
from tests.conftest import SAMPLES
from tests.safety.test_watermark import h264 as reencode

KEY = WatermarkKey.from_bytes(bytes(range(32)))
PAYLOAD = WatermarkPayload(output_id=0x5EC0DE42, consent=0x00ABCD)


@pytest.fixture(scope="module")
def square_yuv() -> list[NDArray[np.uint8]]:
    """16 driver frames' centre square at 512x512 (a square reenact output's framing)."""
    frames: list[NDArray[np.uint8]] = []
    with av.open(str(SAMPLES / "driver.mp4")) as container:
        for frame in container.decode(video=0):
            bgr = frame.to_ndarray(format="bgr24")[:, 140:500]
            big = cv2.resize(bgr, (512, 512), interpolation=cv2.INTER_CUBIC)
            frames.append(np.asarray(cv2.cvtColor(big, cv2.COLOR_BGR2YUV_I420), np.uint8))
            if len(frames) == 16:
                break
    return frames


def mark(frames: list[NDArray[np.uint8]]) -> list[NDArray[np.uint8]]:
    h, w = frames[0].shape[0] * 2 // 3, frames[0].shape[1]
    embedder = WatermarkEmbedder(KEY, PAYLOAD, w, h)
    out = [f.copy() for f in frames]
    for f in out:
        embedder.embed(f)
    return out


def halve(yuv: NDArray[np.uint8]) -> NDArray[np.uint8]:
    y, u, v = planes(yuv)
    h, w = y.shape
    area = cv2.INTER_AREA
    small = [cv2.resize(p, (p.shape[1] // 2, p.shape[0] // 2), interpolation=area)
             for p in (y, u, v)]
    return np.concatenate([small[0], np.stack(small[1:]).reshape(h // 4, w // 2)])


def h264(frames: list[NDArray[np.uint8]], crf: int) -> list[NDArray[np.uint8]]:
    """Re-encode with libx264's default preset, as a re-sharing tool would."""
    return reencode(frames, crf, preset=None)


def test_survives_halving_then_h264_crf30(square_yuv: list[NDArray[np.uint8]]) -> None:
    """Issue 13's row: a 512x512 output halved to 256x256 and re-encoded at CRF 30."""
    attacked = h264([halve(f) for f in mark(square_yuv)], crf=30)
    assert attacked[0].shape == (256, 256)
    found = detect_lumas(attacked, KEY, expected=PAYLOAD)
    assert found.present and found.payload == PAYLOAD.hex
    other = detect_lumas(attacked, WatermarkKey.from_bytes(bytes(32)))
    assert not other.present and other.confidence < 0.5


def test_lattice_scores_accept_periods_longer_than_the_frame() -> None:
    """Periods with no lattice point at the end of the list used to raise IndexError."""
    z = np.random.default_rng(0).normal(size=(101, 101)).astype(np.float32)
    scores = _lattice_scores(z, np.array([24.0, 30.0, 80.0, 120.0]))
    assert scores.shape == (4,) and scores[-1] == 0.0 and scores[0] != 0.0


def write_video(path: Path, frames: list[NDArray[np.uint8]]) -> None:
    from streamgan.media import VideoWriter

    h, w = frames[0].shape[0] * 2 // 3, frames[0].shape[1]
    with VideoWriter(path, width=w, height=h, time_base=Fraction(1, 25),
                     rate=Fraction(25)) as writer:
        for i, f in enumerate(frames):
            writer.write(f, i)


def test_detect_file_reads_until_sure(tmp_path: Path,
                                      square_yuv: list[NDArray[np.uint8]]) -> None:
    """A clear mark stops reading at the first check; an unmarked file is read to the end
    (or the cap); an explicit cap is kept."""
    small = [halve(f) for f in square_yuv]
    marked = tmp_path / "marked.mp4"
    write_video(marked, (mark(small) * 3)[:FIRST_CHECK + 8])
    found = detect_file(marked, KEY)
    assert found.present and found.payload == PAYLOAD.hex
    assert found.frames_used == FIRST_CHECK
    assert detect_file(marked, KEY, max_frames=5).frames_used == 5

    clean = tmp_path / "clean.mp4"
    write_video(clean, (small * 3)[:FIRST_CHECK + 8])
    missing = detect_file(clean, KEY)
    assert not missing.present and missing.frames_used == FIRST_CHECK + 8
    assert detect_file(clean, KEY, max_frames=None).frames_used == FIRST_CHECK + 8
    with pytest.raises(ValueError):
        detect_file(clean, KEY, max_frames=0)
