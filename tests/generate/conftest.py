"""Fixtures for the video GAN: a few tiny moving-digit videos and a tiny checkpoint."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from streamgan.generate import checkpoint
from streamgan.generate.model import VideoGan
from streamgan.generate.options import PRESETS, VganOptions

TINY = PRESETS["tiny"]


def write_digit_videos(folder: Path, count: int, frames: int, size: int = 32) -> Path:
    """``count`` short moving-digit videos, as the shipped model's data is made."""
    from streamgan.generate.digits import load_digits, render_clip
    from streamgan.media import VideoWriter

    folder.mkdir(parents=True, exist_ok=True)
    digits = load_digits("train")
    rng = np.random.default_rng(7)
    for i in range(count):
        clip = render_clip(rng, digits, frames, size)
        with VideoWriter(folder / f"d{i}.mp4", width=size, height=size,
                         time_base=Fraction(1, 8), rate=Fraction(8), crf=10,
                         threaded=False) as writer:
            for t, frame in enumerate(clip.frames):
                writer.write_rgb(frame, t)
    return folder


@pytest.fixture(scope="session")
def digit_videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("sklearn")
    return write_digit_videos(tmp_path_factory.mktemp("digits"), 3, 10)


def save_tiny(path: Path, options: VganOptions = TINY, seed: int = 0) -> Path:
    """A freshly initialised (untrained) tiny model, saved as a sampling checkpoint."""
    import torch

    torch.manual_seed(seed)
    checkpoint.save(VideoGan(options, train=False), path, training=False)
    return path


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    return save_tiny(tmp_path / "tiny.pt")
