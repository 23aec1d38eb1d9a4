"""pix2pix and CycleGAN: each training step lowers its losses on a fixed batch; the
schedule, the image pool and the stability loss behave as the papers describe."""

from __future__ import annotations

import torch

from streamgan.train.distributed import World
from streamgan.translate.losses import ImagePool, small_motion, stability_loss
from streamgan.translate.models import create_model
from streamgan.translate.options import ModelOptions

TINY = ModelOptions(size=32, ndf=8, d_layers=2, fast_width=8, fast_blocks=1, pool_size=4)


def _batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    a = torch.rand(2, 3, 32, 32, generator=g) * 2 - 1
    return a, -a.flip(1)  # B: inverted, channels swapped


def _train(options: ModelOptions, steps: int) -> list[dict[str, float]]:
    torch.manual_seed(0)
    model = create_model(options, total_steps=1000)
    nets = model.replicate(World(), torch.device("cpu"))
    batch = _batch()
    return [model.train_step(batch, nets) for _ in range(steps)]


def test_pix2pix_steps_lower_the_l1_to_the_target() -> None:
    losses = _train(TINY.but(lr=2e-3), 60)
    first = sum(x["g_l1"] for x in losses[:3]) / 3
    last = sum(x["g_l1"] for x in losses[-3:]) / 3
    assert last < 0.7 * first, (first, last)


def test_cyclegan_steps_lower_the_cycle_loss() -> None:
    losses = _train(TINY.but(model="cyclegan", lr=1e-3), 30)
    first = sum(x["cycle"] for x in losses[:3]) / 3
    last = sum(x["cycle"] for x in losses[-3:]) / 3
    assert last < 0.8 * first, (first, last)
    assert all(k in losses[0] for k in ("d_a", "d_b", "g_a", "g_b", "identity"))


def test_a_step_updates_generator_discriminator_and_average() -> None:
    torch.manual_seed(0)
    model = create_model(TINY.but(generator="resnet_6blocks", ngf=4), total_steps=10)
    before = {k: [p.clone() for p in n.parameters()]
              for k, n in {**model.generators, **model.discriminators}.items()}
    ema = [p.clone() for p in model.ema.parameters()]
    model.train_step(_batch(), model.replicate(World(), torch.device("cpu")))
    for name, net in {**model.generators, **model.discriminators}.items():
        assert any(not torch.equal(a, b) for a, b in zip(before[name], net.parameters(),
                                                         strict=True)), name
    assert any(not torch.equal(a, b) for a, b in zip(ema, model.ema.parameters(), strict=True))
    assert model.step == 1


def test_learning_rate_is_constant_then_falls_linearly_to_zero() -> None:
    model = create_model(TINY, train=False, total_steps=100)
    rates = []
    for step in (0, 49, 50, 75, 100):
        model.step = step
        rates.append(model.learning_rate())
    assert rates[0] == rates[1] == rates[2] == TINY.lr
    assert abs(rates[3] - TINY.lr / 2) < 1e-12
    assert rates[4] == 0.0


def test_image_pool_mixes_history_once_full() -> None:
    pool = ImagePool(4, seed=0)
    first = torch.arange(4.0).view(4, 1, 1, 1)
    assert torch.equal(pool.query(first), first)  # filling: as given
    later = torch.full((16, 1, 1, 1), 99.0)
    out = pool.query(later)
    assert out.shape == later.shape
    assert (out != 99).any() and (out == 99).any()  # some history, some new
    assert torch.equal(ImagePool(0).query(later), later)


def test_stability_loss_is_small_for_an_equivariant_map_and_large_otherwise() -> None:
    torch.manual_seed(0)
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    identity = torch.nn.Identity()
    torch.manual_seed(0)
    noisy_conv = torch.nn.Conv2d(3, 3, 3, padding=1)

    def unstable_map(t: torch.Tensor) -> torch.Tensor:
        return noisy_conv(t) + torch.randn_like(t)

    with torch.no_grad():
        equivariant = float(stability_loss(identity, x, x, noise=0.0))
        unstable = float(stability_loss(unstable_map, x, noisy_conv(x)))  # type: ignore[arg-type]
    assert equivariant < 0.05 < unstable
    theta = small_motion(3, torch.device("cpu"))
    assert theta.shape == (3, 2, 3)
    assert (theta[:, :, :2] - torch.eye(2)).abs().max() < 0.1


def test_stability_weight_adds_the_loss_and_keeps_training() -> None:
    losses = _train(TINY.but(lambda_temporal=1.0), 3)
    assert all(x["g_stable"] > 0 for x in losses)
