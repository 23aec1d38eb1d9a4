"""Losses of the translation models that need no downloaded network.

The adversarial loss in both papers' forms, the image pool CycleGAN shows its
discriminators, and the stability loss that asks a per-frame model to treat a
slightly moved, noisy frame as the same picture moved (Eilertsen et al. 2019,
"Single-frame Regularization for Temporally Stable CNNs"): a loss on still images
that makes video output flicker less.
"""

from __future__ import annotations

import math
import random

import torch
import torch.nn.functional as F
from torch import Tensor, nn


class GanLoss(nn.Module):
    """lsgan: least squares against 1 and 0 (CycleGAN); vanilla: cross-entropy on logits
    (pix2pix)."""

    def __init__(self, mode: str = "lsgan") -> None:
        super().__init__()
        if mode not in ("lsgan", "vanilla"):
            raise ValueError(f"gan mode must be lsgan or vanilla, not {mode!r}")
        self.mode = mode

    def forward(self, prediction: Tensor, real: bool) -> Tensor:
        target = torch.full_like(prediction, 1.0 if real else 0.0)
        if self.mode == "lsgan":
            return F.mse_loss(prediction, target)
        return F.binary_cross_entropy_with_logits(prediction, target)


class ImagePool:
    """A store of earlier generated images; half of what the discriminator sees comes
    from it, so it does not chase only the generator's latest trick."""

    def __init__(self, size: int, seed: int = 0) -> None:
        self.size = size
        self.images: list[Tensor] = []
        self.random = random.Random(seed)

    def query(self, images: Tensor) -> Tensor:
        if self.size == 0:
            return images
        out = []
        for image in images.detach():
            image = image[None]
            if len(self.images) < self.size:
                self.images.append(image)
                out.append(image)
            elif self.random.random() > 0.5:
                i = self.random.randrange(self.size)
                out.append(self.images[i].clone())
                self.images[i] = image
            else:
                out.append(image)
        return torch.cat(out)


def small_motion(n: int, device: torch.device, shift: float = 0.02,
                 degrees: float = 1.5, zoom: float = 0.03) -> Tensor:
    """Random affine grids' matrices (N, 2, 3) for camera-like jitter: a shift of up to
    ``shift`` of the side, a small rotation and zoom."""
    angle = (torch.rand(n, device=device) * 2 - 1) * math.radians(degrees)
    scale = 1 + (torch.rand(n, device=device) * 2 - 1) * zoom
    move = (torch.rand(n, 2, device=device) * 2 - 1) * shift * 2  # grid spans [-1, 1]
    cos, sin = torch.cos(angle) * scale, torch.sin(angle) * scale
    return torch.stack([torch.stack([cos, -sin, move[:, 0]], 1),
                        torch.stack([sin, cos, move[:, 1]], 1)], 1)


def moved(images: Tensor, theta: Tensor) -> Tensor:
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, padding_mode="reflection", align_corners=False)


def stability_loss(generator: nn.Module, source: Tensor, output: Tensor,
                   noise: float = 0.02) -> Tensor:
    """L1 between the translation of a moved, noisy ``source`` and the moved ``output``
    (``output`` is the generator's translation of ``source``)."""
    theta = small_motion(source.shape[0], source.device)
    jittered = moved(source, theta) + noise * torch.randn_like(source)
    translated: Tensor = generator(jittered.clamp(-1, 1))
    return (translated - moved(output, theta)).abs().mean()
