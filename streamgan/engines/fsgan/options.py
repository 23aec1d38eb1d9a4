"""Settings of an ``fsgan`` model: crop, network sizes, loss weights, optimiser.

One frozen dataclass describes a model; it is stored in every checkpoint so that a
resumed run or the engine rebuilds the same networks with no command-line flags.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from streamgan.engines.fsgan.heatmaps import GROUPS


@dataclass(frozen=True)
class FsganOptions:
    """Shape, losses and optimiser of one fsgan model."""

    size: int = 128
    """Side of the aligned face crop the networks see (>= 32, a multiple of 2**levels)."""
    face_fraction: float = 0.75
    """Forehead-to-chin height as a fraction of the crop's side: the face fills most
    of it (only the face is pasted back), so a small crop keeps its detail."""
    width: int = 16
    """Channels of the generator's finest level (doubling per level, up to 8x)."""
    levels: int = 4
    """Downsamplings of the U-Net (the crop side must divide by 2**levels)."""
    blocks: int = 1
    """Residual blocks at the bottleneck."""
    d_width: int = 16
    d_scales: int = 2
    """Discriminators, each on the crop at half the previous scale (pix2pixHD)."""
    lambda_l1: float = 1.0
    lambda_ssim: float = 1.0
    lambda_laplacian: float = 1.0
    lambda_seg: float = 0.2
    lambda_blend: float = 1.0
    lambda_gan: float = 0.05
    """0 turns the adversarial loss (and the discriminators' cost) off."""
    lambda_fm: float = 1.0
    """Feature matching, on the discriminators' layers."""
    lr: float = 1e-3
    beta1: float = 0.5
    decay_from: float = 0.6
    ema: float = 0.995

    def __post_init__(self) -> None:
        if not 2 <= self.levels <= 6:
            raise ValueError(f"levels must be 2-6, not {self.levels}")
        if self.size < 32 or self.size % (2 ** self.levels):
            raise ValueError(f"the crop side must be >= 32 and a multiple of "
                             f"{2 ** self.levels} (2 ** levels), not {self.size}")
        if not 0.2 <= self.face_fraction <= 0.9:
            raise ValueError(f"face fraction must be 0.2-0.9, not {self.face_fraction}")
        if self.width < 4 or self.d_width < 4 or self.blocks < 0 or self.d_scales < 1:
            raise ValueError("network widths must be >= 4, blocks >= 0, d_scales >= 1")

    @property
    def in_channels(self) -> int:
        """Warped RGB, the warp's validity, one heatmap per landmark group."""
        return 3 + 1 + len(GROUPS)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FsganOptions:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def but(self, **changes: Any) -> FsganOptions:
        return replace(self, **changes)


PRESETS: dict[str, FsganOptions] = {
    "cpu": FsganOptions(),
    "gpu": FsganOptions(size=256, width=48, levels=5, blocks=4, d_width=64, d_scales=3),
    "tiny": FsganOptions(size=64, width=8, levels=3, blocks=1, d_width=8, d_scales=1),
}
"""cpu: a personal model in minutes on two cores; gpu: larger, at 256 px; tiny: tests."""
