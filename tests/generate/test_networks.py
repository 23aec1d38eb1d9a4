from __future__ import annotations

import pytest
import torch

from streamgan.generate.networks import Discriminator, Encoder, Generator, parameter_count
from streamgan.generate.options import PRESETS, VganOptions


@pytest.mark.parametrize("options", [PRESETS["tiny"], PRESETS["digits"],
                                     VganOptions(size=16, frames=16, z_dim=4, width=2),
                                     VganOptions(size=32, frames=2, z_dim=4, width=2)],
                         ids=["tiny", "digits", "frames=size", "two-frames"])
def test_every_stream_has_the_configured_shape(options: VganOptions) -> None:
    g, d, e = Generator(options), Discriminator(options), Encoder(options)
    video, fg, mask, bg = g(torch.randn(3, options.z_dim))
    t, s, c = options.frames, options.size, options.channels
    assert video.shape == fg.shape == (3, c, t, s, s)
    assert mask.shape == (3, 1, t, s, s)
    assert bg.shape == (3, c, s, s)
    assert d(video).shape == (3,)
    assert e(video[:, :, 0]).shape == (3, options.z_dim)


def test_outputs_stay_in_range_and_compose_as_the_paper_says() -> None:
    g = Generator(PRESETS["tiny"])
    with torch.no_grad():
        video, fg, mask, bg = g(torch.randn(5, PRESETS["tiny"].z_dim) * 10)
    assert 0.0 <= mask.min() and mask.max() <= 1.0
    assert fg.abs().max() <= 1.0 and bg.abs().max() <= 1.0 and video.abs().max() <= 1.0
    torch.testing.assert_close(video, mask * fg + (1 - mask) * bg[:, :, None])
    # The background stream is one still: identical in every frame of the video
    # where the mask is shut.
    assert bg.dim() == 4


def test_paper_preset_has_the_papers_size() -> None:
    options = PRESETS["paper"]
    assert (options.size, options.frames, options.z_dim) == (64, 32, 100)
    assert 15e6 < parameter_count(Generator(options)) < 17e6


@pytest.mark.parametrize("bad", [dict(size=48), dict(frames=3), dict(size=4),
                                 dict(frames=64, size=32), dict(z_dim=0)])
def test_impossible_shapes_are_refused(bad: dict[str, int]) -> None:
    with pytest.raises(ValueError):
        PRESETS["tiny"].but(**bad)
