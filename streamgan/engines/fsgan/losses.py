"""Losses that need no downloaded network (FSGAN's VGG-Face perceptual loss cannot be
had here): L1, multi-scale SSIM, a Laplacian pyramid, feature matching and the
Poisson-blending loss. Pictures are (N, C, H, W) in [-1, 1] unless said otherwise.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _gaussian(sigma: float, device: torch.device) -> Tensor:
    radius = max(1, int(round(3 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=torch.float32, device=device)
    g = torch.exp(-(x ** 2) / (2 * sigma ** 2))
    return g / g.sum()


def _blur(x: Tensor, sigma: float) -> Tensor:
    g = _gaussian(sigma, x.device)
    c = x.shape[1]
    k = len(g)
    x = F.conv2d(x, g.view(1, 1, 1, k).expand(c, 1, 1, k), padding=(0, k // 2), groups=c)
    return F.conv2d(x, g.view(1, 1, k, 1).expand(c, 1, k, 1), padding=(k // 2, 0), groups=c)


def ssim_parts(a: Tensor, b: Tensor, sigma: float = 1.5) -> tuple[Tensor, Tensor]:
    """SSIM's luminance and contrast-structure terms per pixel, on [0, 1] pictures."""
    c1, c2 = 0.01 ** 2, 0.03 ** 2
    mu_a, mu_b = _blur(a, sigma), _blur(b, sigma)
    var_a = _blur(a * a, sigma) - mu_a ** 2
    var_b = _blur(b * b, sigma) - mu_b ** 2
    cov = _blur(a * b, sigma) - mu_a * mu_b
    luminance = (2 * mu_a * mu_b + c1) / (mu_a ** 2 + mu_b ** 2 + c1)
    structure = (2 * cov + c2) / (var_a + var_b + c2)
    return luminance, structure


def ssim(a: Tensor, b: Tensor) -> Tensor:
    """Mean SSIM (Wang et al. 2004, Gaussian window 1.5) of pictures in [-1, 1]."""
    luminance, structure = ssim_parts((a + 1) / 2, (b + 1) / 2)
    return (luminance * structure).mean()


def ms_ssim_loss(a: Tensor, b: Tensor, scales: int = 3) -> Tensor:
    """1 - multi-scale SSIM (Wang et al. 2003): contrast-structure at every scale,
    luminance at the coarsest, geometric mean with equal weights (clamped to stay
    differentiable where a term is negative)."""
    a, b = (a + 1) / 2, (b + 1) / 2
    product = torch.ones((), device=a.device)
    for s in range(scales):
        luminance, structure = ssim_parts(a, b)
        term = structure.mean() if s < scales - 1 else (luminance * structure).mean()
        product = product * term.clamp_min(1e-4) ** (1.0 / scales)
        if s < scales - 1:
            a, b = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
    return 1 - product


def laplacian_loss(a: Tensor, b: Tensor, levels: int = 4) -> Tensor:
    """L1 between Laplacian pyramids (Bojanowski et al. 2018), each level's mean
    counting the same: fine detail lost weighs as much as broad colour, where plain L1
    lets a blur through cheaply."""
    loss = torch.zeros((), device=a.device)
    for level in range(levels):
        if level == levels - 1 or min(a.shape[-2:]) < 4:
            return loss + (a - b).abs().mean()
        da, db = F.avg_pool2d(a, 2), F.avg_pool2d(b, 2)
        ua = F.interpolate(da, scale_factor=2.0, mode="bilinear", align_corners=False)
        ub = F.interpolate(db, scale_factor=2.0, mode="bilinear", align_corners=False)
        loss = loss + ((a - ua) - (b - ub)).abs().mean()
        a, b = da, db
    return loss


def gradients(x: Tensor) -> tuple[Tensor, Tensor]:
    """Forward differences along x and y (the last row/column repeats)."""
    gx = F.pad(x[..., :, 1:] - x[..., :, :-1], (0, 1, 0, 0))
    gy = F.pad(x[..., 1:, :] - x[..., :-1, :], (0, 0, 0, 1))
    return gx, gy


def poisson_blend_loss(blended: Tensor, inner: Tensor, outer: Tensor,
                       mask: Tensor) -> Tensor:
    """How far ``blended`` is from the Poisson blend of ``inner`` into ``outer`` over
    ``mask`` (N, 1, H, W in [0, 1]): the gradient-domain objective itself, gradients
    of ``inner`` inside the mask and the colours of ``outer`` outside it. FSGAN
    trains its blending generator towards a solved Poisson blend; the objective
    needs no solver and says the same: no seam, the surroundings' colour."""
    bx, by = gradients(blended)
    ix, iy = gradients(inner)
    inside = (mask * ((bx - ix).abs() + (by - iy).abs())).sum() / (mask.sum() * 3 + 1)
    outside = ((1 - mask) * (blended - outer).abs()).sum() / ((1 - mask).sum() * 3 + 1)
    return inside + outside


def feature_matching(fake: list[list[Tensor]], real: list[list[Tensor]]) -> Tensor:
    """L1 between the discriminators' layers on a fake and a real picture (pix2pixHD);
    the logits themselves are left to the adversarial loss."""
    loss = torch.zeros((), device=fake[0][0].device)
    count = 0
    for fake_layers, real_layers in zip(fake, real, strict=True):
        for f, r in zip(fake_layers[:-1], real_layers[:-1], strict=True):
            loss = loss + (f - r.detach()).abs().mean()
            count += 1
    return loss / max(count, 1)
