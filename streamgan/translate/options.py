"""Settings of a translation model: which networks, which losses, how it is optimised.

One frozen dataclass describes a model; it is stored in every training checkpoint so
that a resumed run rebuilds the same networks with no command-line flags.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

GENERATORS = ("fast", "resnet_9blocks", "resnet_6blocks", "unet_256", "unet_128")
MODELS = ("pix2pix", "cyclegan")


@dataclass(frozen=True)
class ModelOptions:
    """Shape, losses and optimiser of one pix2pix or CycleGAN model."""

    model: str = "pix2pix"
    """pix2pix (paired: L1 + adversarial) or cyclegan (unpaired: two directions)."""
    generator: str = "fast"
    """fast (streamgan's live model), resnet_9blocks / resnet_6blocks (CycleGAN's),
    unet_256 / unet_128 (pix2pix's)."""
    size: int = 256
    """Training crop side in pixels."""
    ngf: int = 64
    ndf: int = 64
    d_layers: int = 3
    """PatchGAN depth: 3 gives the 70x70 patches of both papers."""
    fast_width: int = 16
    fast_blocks: int = 4
    gan_mode: str = "lsgan"
    """lsgan (least squares, CycleGAN's) or vanilla (pix2pix's cross-entropy)."""
    lambda_l1: float = 100.0
    """pix2pix: weight of the L1 loss to the paired target."""
    lambda_cycle: float = 10.0
    """CycleGAN: weight of each cycle-consistency loss."""
    lambda_identity: float = 0.5
    """CycleGAN: identity loss weight, relative to the cycle weight."""
    lambda_temporal: float = 0.0
    """Weight of the stability loss: translating a slightly moved and noisy input must
    give the moved output (0: off). Makes per-frame video output steadier."""
    pool_size: int = 50
    """CycleGAN: generated images kept to show the discriminators (0: none)."""
    lr: float = 2e-4
    beta1: float = 0.5
    decay_from: float = 0.5
    """The learning rate stays constant for this fraction of the steps, then falls
    linearly to zero (both papers' schedule, in steps instead of epochs)."""
    ema: float = 0.999
    """Decay of the moving average of the generator that inference uses."""

    def __post_init__(self) -> None:
        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r} ({', '.join(MODELS)})")
        if self.generator not in GENERATORS:
            raise ValueError(f"unknown generator {self.generator!r} ({', '.join(GENERATORS)})")
        if self.gan_mode not in ("lsgan", "vanilla"):
            raise ValueError(f"gan mode must be lsgan or vanilla, not {self.gan_mode!r}")
        multiple = {"unet_256": 256, "unet_128": 128}.get(self.generator, 4)
        if self.size < multiple or self.size % multiple:
            raise ValueError(f"--size {self.size}: {self.generator} needs a multiple of "
                             f"{multiple}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> ModelOptions:
        known = {f.name for f in fields(ModelOptions)}
        return ModelOptions(**{k: v for k, v in data.items() if k in known})

    def but(self, **changes: Any) -> ModelOptions:
        return replace(self, **changes)
