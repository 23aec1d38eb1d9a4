"""Fixtures for translation: small model checkpoints and short clips, made per session."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from streamgan.translate.formats import GeneratorSpec, build_generator, to_checkpoint
from tests.media.synth import make_video


def save_fast_model(path: Path, seed: int = 0, residual: bool = False,
                    extra: dict[str, object] | None = None) -> Path:
    """A streamgan checkpoint of a small fast generator with seeded random weights:
    not the identity (``residual`` False), so its output is far from its input."""
    torch.manual_seed(seed)
    spec = GeneratorSpec("fast", {"width": 8, "blocks": 1, "residual": residual})
    net = build_generator(spec)
    torch.save(to_checkpoint(spec, net, dict(extra or {})), path)
    return path


@pytest.fixture(scope="session")
def fast_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_fast_model(tmp_path_factory.mktemp("models") / "random.pt")


@pytest.fixture(scope="session")
def moving_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 frames of a textured scene under a moving camera, 256x144 at 10 fps, with AAC.
    (At 192x112 the watermark is found in only some runs of 16 frames.)"""
    from tests.translate.scenes import camera_motion

    clip = camera_motion(frames=16, height=144, width=256)
    return make_video(tmp_path_factory.mktemp("clips") / "moving.mp4", frames=16,
                      size=(256, 144), rate=Fraction(10), audio="aac", images=clip.frames,
                      options={"crf": "12"})


@pytest.fixture(scope="session")
def paired_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny paired set: A is a texture, B is A inverted (a task one step can start)."""
    root = tmp_path_factory.mktemp("paired")
    rng = np.random.default_rng(0)
    for side in ("A", "B"):
        (root / side).mkdir()
    for i in range(6):
        a = np.asarray(rng.integers(0, 256, (40, 48, 3)), np.uint8)
        Image.fromarray(a).save(root / "A" / f"{i}.png")
        Image.fromarray(255 - a).save(root / "B" / f"{i}.png")
    return root
