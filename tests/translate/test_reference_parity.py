"""Our networks compute what the reference code computes, not only load its keys.

``fixtures/reference_outputs.npz`` was recorded once, outside this repository, by
running the reference networks themselves (pytorch-CycleGAN-and-pix2pix
``models/networks.py`` and the PyTorch examples' fast-neural-style
``transformer_net.py``, at the commits stored in the fixture) with weights filled by
:func:`fill` below, on the inputs of :func:`make_input`: 2048 fixed positions of each
output and their values. Here our networks get the same weights and inputs and must
reproduce those values to within 1e-4.

The cases: CycleGAN's resnet_9blocks (instance norm) at 64x64; pix2pix's unet_256
(batch norm) at 256x256 as the reference test script runs it (train mode, one image
per batch, with dropout off), which is our per-sample-norm mode, here with the frame
batched beside another to show batching changes nothing; the same unet in eval()
with running statistics; fast-neural-style's TransformerNet at 64x64 in 0..255.

Largest difference measured (torch 2.13.0 CPU), at the recorded positions and also
over the whole outputs in a side-by-side run with the reference code: 0.0 for all
four (bit-identical: the same operations in the same order; per-sample norm's
instance norm computes exactly what train-mode batch norm does for one image). The
1e-4 tolerance leaves room for other CPUs' and BLAS builds' rounding.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pytest
import torch
from torch import Tensor, nn

from streamgan.translate.networks import ResnetGenerator, TransformerNet, UnetGenerator

FIXTURE = Path(__file__).parent / "fixtures" / "reference_outputs.npz"
SCALE = 0.02
TOLERANCE = 1e-4

N = TypeVar("N", bound=nn.Module)


def fill(state: dict[str, Tensor]) -> dict[str, Tensor]:
    """Deterministic weights from the key names alone: N(0, SCALE) from a generator
    seeded by the key's CRC-32; 1-D weights (norm scales) around 1; running variances
    made positive; integer buffers (``num_batches_tracked``) 0, as built. ``state`` may
    be on the meta device: only its shapes and dtypes are read."""
    out: dict[str, Tensor] = {}
    for key in sorted(state):
        tensor = state[key]
        if not tensor.is_floating_point():
            out[key] = torch.zeros(tensor.shape, dtype=tensor.dtype)
            continue
        g = torch.Generator().manual_seed(zlib.crc32(key.encode()))
        value = torch.randn(tensor.shape, generator=g, dtype=torch.float32) * SCALE
        if key.endswith("running_var"):
            value = value.abs() + 0.5
        elif key.endswith("weight") and tensor.dim() == 1:
            value = value + 1.0
        out[key] = value
    return out


def make_input(seed: int, shape: tuple[int, ...], scale: str) -> Tensor:
    """Uniform noise: [-1, 1] for "tanh" networks, 0..255 for "255" ones."""
    g = torch.Generator().manual_seed(seed)
    x = torch.rand(shape, generator=g, dtype=torch.float32)
    return x * 255.0 if scale == "255" else x * 2.0 - 1.0


@pytest.fixture(scope="module")
def reference() -> dict[str, Any]:
    with np.load(FIXTURE) as data:
        return {k: data[k] for k in data.files}


@pytest.fixture(scope="module")
def unet_256() -> UnetGenerator:
    """One filled unet_256 for both modes (filling 54M weights takes a while)."""
    return filled(lambda: UnetGenerator(num_downs=8, norm="batch"))


def filled(factory: Callable[[], N]) -> N:
    """The network ``factory`` builds, in eval mode with :func:`fill`'s weights (built
    on the meta device: initialising weights that are replaced anyway is slow)."""
    with torch.device("meta"):
        net = factory()
    net.load_state_dict(fill(net.state_dict()), assign=True)
    return net.eval()


def check(net: nn.Module, reference: dict[str, Any], name: str, scale: str,
          batch_with_other: bool = False) -> float:
    shape = tuple(int(d) for d in reference[f"{name}_input_shape"])
    x = make_input(int(reference[f"{name}_seed"]), shape, scale)
    if batch_with_other:
        x = torch.cat([x, make_input(99, shape, scale)])
    with torch.inference_mode():
        y = net(x)[:1]
    assert tuple(y.shape) == tuple(int(d) for d in reference[f"{name}_output_shape"])
    got = y.flatten().numpy()[reference[f"{name}_index"]]
    diff = float(np.abs(got - reference[f"{name}_values"]).max())
    assert diff < TOLERANCE, f"{name}: differs from the reference by {diff:.3g}"
    return diff


def test_fixture_is_small_and_names_the_reference_commits(reference: dict[str, Any]) -> None:
    assert FIXTURE.stat().st_size < 200_000
    assert len(str(reference["cyclegan_commit"])) == 40
    assert len(str(reference["examples_commit"])) == 40


def test_resnet_9blocks_matches_the_reference(reference: dict[str, Any]) -> None:
    check(filled(lambda: ResnetGenerator(n_blocks=9, norm="instance")), reference, "resnet",
          "tanh")


def test_transformer_net_matches_the_reference(reference: dict[str, Any]) -> None:
    check(filled(TransformerNet), reference, "transformer", "255")


def test_unet_256_per_sample_norm_matches_the_reference_test_script(
        reference: dict[str, Any], unet_256: UnetGenerator) -> None:
    unet_256.per_sample_norm = True
    try:
        check(unet_256, reference, "unet", "tanh", batch_with_other=True)
    finally:
        unet_256.per_sample_norm = False


def test_unet_256_eval_mode_matches_the_reference(
        reference: dict[str, Any], unet_256: UnetGenerator) -> None:
    assert not unet_256.per_sample_norm
    check(unet_256, reference, "unet_eval", "tanh")
