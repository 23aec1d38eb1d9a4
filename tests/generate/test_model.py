from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from streamgan.generate.model import OptimOptions, VideoGan
from streamgan.generate.options import PRESETS

TINY = PRESETS["tiny"]


def fixed_batch() -> torch.Tensor:
    torch.manual_seed(3)
    return torch.rand(6, 3, TINY.frames, TINY.size, TINY.size) * 2 - 1


def d_loss(model: VideoGan, real: torch.Tensor, fake: torch.Tensor) -> float:
    assert model.discriminator is not None
    d = model.discriminator
    with torch.no_grad():
            return float(F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean())


def test_a_discriminator_step_lowers_its_loss_on_the_batch() -> None:
    torch.manual_seed(0)
    model = VideoGan(TINY, OptimOptions(lr=1e-3))
    real = fixed_batch()
    with torch.no_grad():
        fake = model.generator(torch.randn(6, TINY.z_dim))[0]
    before = d_loss(model, real, fake)
    model.discriminator_step(real, fake, model.discriminator)  # type: ignore[arg-type]
    assert d_loss(model, real, fake) < before


def test_a_generator_step_lowers_its_loss_for_the_same_codes() -> None:
    torch.manual_seed(0)
    model = VideoGan(TINY, OptimOptions(lr=1e-3))
    assert model.discriminator is not None
    model.discriminator.eval()  # hold the judge still while the generator moves
    real, z = fixed_batch(), torch.randn(6, TINY.z_dim)

    def g_loss() -> float:
        with torch.no_grad():
            fake, _, mask, _ = model.generator(z)
            assert model.discriminator is not None
            return float(F.softplus(-model.discriminator(fake)).mean()
                         + TINY.mask_l1 * mask.abs().mean())

    before = g_loss()
    fake, _, mask, _ = model.generator(z)
    model.generator_step(real, fake, mask, model.discriminator)
    assert g_loss() < before


def test_train_step_updates_both_networks_and_the_average() -> None:
    torch.manual_seed(0)
    model = VideoGan(TINY)
    assert model.discriminator is not None
    g0 = [p.clone() for p in model.generator.parameters()]
    d0 = [p.clone() for p in model.discriminator.parameters()]
    e0 = [p.clone() for p in model.ema.parameters()]
    losses = model.train_step(fixed_batch())
    assert set(losses) >= {"d_real", "d_fake", "g_adv", "mask"}
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    for before, net in ((g0, model.generator), (d0, model.discriminator), (e0, model.ema)):
        assert any(not torch.equal(a, b) for a, b in zip(before, net.parameters(),
                                                         strict=True))
    assert model.step == 1


def test_the_conditional_model_ties_the_first_frame_to_the_still() -> None:
    torch.manual_seed(0)
    model = VideoGan(TINY.but(conditional=True), OptimOptions(lr=2e-3))
    real = fixed_batch()
    first = [model.train_step(real)["first_l1"] for _ in range(15)]
    assert first[-1] < first[0]
    code = model.encode(real[:, :, 0])
    assert code.shape == (6, TINY.z_dim)


def test_an_unconditional_model_cannot_encode() -> None:
    with pytest.raises(ValueError, match="not conditional"):
        VideoGan(TINY, train=False).encode(torch.zeros(1, 3, TINY.size, TINY.size))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_a_step_and_sampling_on_the_gpu() -> None:
    model = VideoGan(TINY, device="cuda")
    losses = model.train_step(fixed_batch())
    assert all(torch.isfinite(torch.tensor(v)) for v in losses.values())
    sample = model.sample(torch.randn(2, TINY.z_dim))
    assert sample.video.is_cuda and sample.video.shape[0] == 2
