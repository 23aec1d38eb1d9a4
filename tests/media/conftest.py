"""Shared media fixtures: small files built once per test session with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from tests.media.synth import make_video

VFR_TIME_BASE = Fraction(1, 12800)
VFR_PTS = [0, 1000, 1500, 4000, 4100, 6000, 9000, 9500, 12800, 20000, 20512, 25600]


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def h264_aac_mp4(media_dir: Path) -> Path:
    """20 frames 64x48 @ 10 fps, H.264 + 2 s AAC tone."""
    return make_video(media_dir / "h264_aac.mp4", audio="aac")


@pytest.fixture(scope="session")
def long_mp4(media_dir: Path) -> Path:
    """30 frames 160x120 @ 10 fps, H.264 only."""
    return make_video(media_dir / "long.mp4", frames=30, size=(160, 120))


@pytest.fixture(scope="session")
def vfr_mp4(media_dir: Path) -> Path:
    """H.264 with irregular timestamps in time base 1/12800."""
    return make_video(
        media_dir / "vfr.mp4", time_base=VFR_TIME_BASE, pts=VFR_PTS, rate=Fraction(10)
    )
