"""Settings of the two-stream video GAN, with the paper's size as a preset.

One frozen dataclass describes a network's shape; it is stored in every checkpoint
so a checkpoint rebuilds its own networks with no command-line flags.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class VganOptions:
    """Shape and loss weights of one video GAN (Vondrick et al. 2016)."""

    size: int = 64
    """Frame width and height in pixels: a power of two, at least 8."""
    frames: int = 32
    """Frames per clip: a power of two, at least 2."""
    z_dim: int = 100
    width: int = 64
    """Channels of the finest layer; each coarser layer doubles them (the paper: 64,
    so 512 at 4x4)."""
    channels: int = 3
    mask_l1: float = 0.1
    """Weight of the L1 penalty on the foreground mask (the paper's lambda)."""
    conditional: bool = False
    """Generate the future of a still image: an encoder maps the first frame to z."""
    first_frame_l1: float = 10.0
    """Conditional only: weight of the L1 loss tying the first frame to the input."""

    def __post_init__(self) -> None:
        for name in ("size", "frames"):
            value = getattr(self, name)
            if value < (8 if name == "size" else 2) or value & (value - 1):
                raise ValueError(f"{name} must be a power of two (size >= 8, frames >= 2), "
                                 f"not {value}")
        if self.z_dim < 1 or self.width < 1 or self.channels < 1:
            raise ValueError("z_dim, width and channels must be positive")
        if self.frames > self.size:
            raise ValueError(f"frames ({self.frames}) may not exceed size ({self.size})")

    @property
    def levels(self) -> int:
        """Upsampling layers from the 4x4 seed to full size."""
        return (self.size // 4).bit_length() - 1

    @property
    def seed_frames(self) -> int:
        """Frames in the foreground stream's first (coarsest) block."""
        return max(1, self.frames >> self.levels)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: dict[str, Any]) -> VganOptions:
        known = {f.name for f in fields(VganOptions)}
        return VganOptions(**{k: v for k, v in data.items() if k in known})

    def but(self, **changes: Any) -> VganOptions:
        return replace(self, **changes)


PRESETS: dict[str, VganOptions] = {
    # The paper: 64x64, 32 frames, 512 channels at the seed; G about 16M parameters.
    "paper": VganOptions(),
    # The shipped moving-digits model: small enough to train without a GPU.
    "digits": VganOptions(size=32, frames=16, z_dim=64, width=32),
    # Shape tests and the DDP check.
    "tiny": VganOptions(size=16, frames=4, z_dim=8, width=4),
}
