"""The fsgan losses: each is zero for the right answer and grows with what it is meant
to catch, against a control it should not mind."""

from __future__ import annotations

import pytest
import torch

from streamgan.engines.fsgan.losses import (
    feature_matching,
    laplacian_loss,
    ms_ssim_loss,
    poisson_blend_loss,
    ssim,
)


def _picture(seed: int = 0, size: int = 64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(2, 3, size // 8, size // 8, generator=g)
    smooth = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear",
                                             align_corners=False)
    return smooth * 2 - 1


def test_ssim_is_one_for_the_same_picture_and_drops_with_noise() -> None:
    a = _picture()
    noisy = (a + 0.2 * torch.randn_like(a)).clamp(-1, 1)
    assert float(ssim(a, a)) > 0.999
    assert float(ssim(a, noisy)) < 0.8
    assert float(ms_ssim_loss(a, a)) < 1e-3
    assert float(ms_ssim_loss(a, noisy)) > 0.1


def test_ssim_minds_structure_more_than_a_small_brightness_shift() -> None:
    a = _picture()
    brighter = (a + 0.05).clamp(-1, 1)
    scrambled = _picture(seed=1)
    assert float(ms_ssim_loss(a, brighter)) < 0.05 < float(ms_ssim_loss(a, scrambled))


def test_laplacian_loss_weighs_lost_detail_more_than_plain_l1_does() -> None:
    torch.manual_seed(0)
    a = _picture()
    a = a + 0.3 * torch.sign(torch.randn_like(a)) * (torch.rand_like(a) > 0.9)
    blurred = torch.nn.functional.avg_pool2d(a, 3, 1, 1)
    shifted = a + (a - blurred).abs().mean()  # the same mean error, no detail lost
    assert float(laplacian_loss(a, a)) == 0.0
    assert float((a - blurred).abs().mean()) == pytest.approx(float((a - shifted).abs().mean()))
    assert float(laplacian_loss(a, blurred)) > 1.5 * float(laplacian_loss(a, shifted))


def test_poisson_blend_loss_prefers_a_seamless_blend() -> None:
    outer = _picture(seed=2)
    inner = _picture(seed=3)
    mask = torch.zeros(2, 1, 64, 64)
    mask[..., 16:48, 16:48] = 1
    # Inner's gradients inside, outer's colours outside: what a Poisson blend gives,
    # up to the boundary; a plain paste shows inner's colours, and so do its gradients.
    offset = inner + (outer[..., 16:48, 16:48].mean() - inner[..., 16:48, 16:48].mean())
    seamless = mask * offset + (1 - mask) * outer
    pasted_outer = outer.clone()  # ignoring the face altogether
    assert float(poisson_blend_loss(seamless, inner, outer, mask)) < \
        0.5 * float(poisson_blend_loss(pasted_outer, inner, outer, mask))
    assert float(poisson_blend_loss(outer, outer, outer, mask)) == 0.0


def test_feature_matching_ignores_logits_and_sees_layers() -> None:
    real = [[torch.ones(1, 4, 8, 8), torch.zeros(1, 1, 4, 4)]]
    same_layers = [[torch.ones(1, 4, 8, 8), torch.ones(1, 1, 4, 4)]]
    other = [[torch.zeros(1, 4, 8, 8), torch.zeros(1, 1, 4, 4)]]
    assert float(feature_matching(same_layers, real)) == 0.0
    assert float(feature_matching(other, real)) == 1.0
