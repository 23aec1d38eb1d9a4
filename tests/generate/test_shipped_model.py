"""The shipped model (models/vgan-digits) is a trained two-stream model, not noise:
what moves is drawn by the foreground and its mask, what stays is the background."""

from __future__ import annotations

import numpy as np
import torch

from streamgan.generate import checkpoint
from streamgan.generate.options import PRESETS
from streamgan.train.card import quality_section


def test_the_mask_covers_what_moves_and_leaves_the_background() -> None:
    model, _ = checkpoint.load(checkpoint.shipped_model())
    assert model.options == PRESETS["digits"]
    z = torch.randn(32, model.options.z_dim, generator=torch.Generator().manual_seed(0))
    sample = model.sample(z)
    video, mask = sample.video.numpy(), sample.mask[:, 0].numpy()
    # A pixel moves when some frame differs from the clip's median frame there.
    change = np.abs(video - np.median(video, axis=2, keepdims=True)).max(1)
    moving, still = change > 0.3, change < 0.05
    assert 0.01 < moving.mean() < 0.3  # a small moving object, not a flickering frame
    assert mask[moving].mean() > 0.5
    assert mask[still].mean() < 0.1
    # Where nothing moves the clip is the static background stream's picture.
    background = np.broadcast_to(sample.background.numpy()[:, :, None], video.shape)
    static = np.broadcast_to(still[:, None], video.shape)
    assert np.abs(video - background)[static].mean() < 0.05


def test_the_card_holds_the_measured_quality() -> None:
    card = checkpoint.shipped_model().with_name("card.md").read_text(encoding="utf-8")
    quality = quality_section(card)
    assert "benchmarks/vgan_quality.py" in quality and "| model (" in quality
