"""Check what you use: the target's consent is checked on the pixels that are animated.

The file is read once; the consent check and the engine decode those same bytes, so a
target swapped on disk after it was read (between the check and the use, in a
time-of-check-to-time-of-use attack) is never what the output shows.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from streamgan.media import VideoReader, read_image
from streamgan.media.image import ImageFile
from streamgan.pipeline.reenact import ReenactSettings, reenact
from tests.conftest import SAMPLE_TRUST, SAMPLES, cut_video

SETTINGS = ReenactSettings(trust=(SAMPLE_TRUST,), audio=False)


@pytest.fixture(scope="module")
def driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return cut_video(SAMPLES / "driver.mp4", tmp_path_factory.mktemp("d") / "d.mp4", 6)


@pytest.fixture()
def target(tmp_path: Path) -> Path:
    path = tmp_path / "target.png"
    shutil.copyfile(SAMPLES / "target.png", path)  # the consent tag travels inside
    return path


def _first_frame(video: Path) -> np.ndarray:
    with VideoReader(video, audio=False) as reader:
        for item in reader:
            return np.asarray(item.image, np.float32)  # type: ignore[union-attr]
    raise AssertionError("no frames")


class _Opens:
    """Counts the times this process opens one path (an audit hook; never removed, so
    it stops counting when the test is done)."""

    def __init__(self, path: Path) -> None:
        self.path, self.count, self.active = os.fspath(path), 0, True
        sys.addaudithook(self)

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if self.active and event == "open" and isinstance(args[0], str | os.PathLike) \
                and os.fspath(args[0]) == self.path:
            self.count += 1


def test_the_target_file_is_opened_once(driver: Path, target: Path, tmp_path: Path) -> None:
    opens = _Opens(target)
    try:
        reenact(driver, target, tmp_path / "o.mp4", SETTINGS)
    finally:
        opens.active = False
    assert opens.count == 1


def test_a_target_swapped_after_reading_is_never_animated(driver: Path, target: Path,
                                                          tmp_path: Path) -> None:
    original = read_image(target)
    photo = ImageFile.read(target)
    swapped = np.ascontiguousarray(original[:, ::-1] // 2)  # another picture, no consent
    Image.fromarray(swapped).save(target)

    out = tmp_path / "o.mp4"
    reenact(driver, photo, out, SETTINGS)

    frame = _first_frame(out)
    h, w = frame.shape[:2]
    to_original = np.abs(frame - original[:h, :w]).mean()
    to_swapped = np.abs(frame - swapped[:h, :w]).mean()
    assert to_original < 12 < to_swapped, (to_original, to_swapped)
