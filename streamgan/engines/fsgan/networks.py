"""The fsgan networks: a residual U-Net generator with three heads, and a multi-scale
PatchGAN whose layers feed the feature-matching loss.

FSGAN runs four generators (reenactment, segmentation, inpainting, blending), each a
pix2pixHD-style residual U-Net of tens of millions of parameters. Here the warp has
already done the geometry, so one encoder-decoder reads the warped crop, where the
warp can be trusted, and the driver's boundary maps, and three small heads share it:

- ``rgb``: the face as it should look (reenactment and inpainting in one), as a
  correction of the warped crop,
- ``keep``: where to keep the warped pixels instead (the Thin-Plate-Spline Motion
  Model's occlusion mask: the network only paints what the warp cannot know),
- ``seg``: the face region to paste back (segmentation and blending mask), trained
  with a Poisson-blending loss so the seam carries the surroundings' colour.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from streamgan.engines.fsgan.options import FsganOptions


def _norm(channels: int) -> nn.Module:
    # Group norm: batch statistics of a batch of one (live) or of two (CPU training)
    # mean nothing, and instance norm would wash out the crop's own brightness.
    return nn.GroupNorm(min(8, channels // 4) or 1, channels)


class _Conv(nn.Sequential):
    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__(nn.Conv2d(cin, cout, 3, stride, 1), _norm(cout), nn.SiLU(True))


class _Residual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(_Conv(channels, channels),
                                  nn.Conv2d(channels, channels, 3, 1, 1), _norm(channels))

    def forward(self, x: Tensor) -> Tensor:
        return F.silu(x + self.body(x))


class _Up(nn.Module):
    """Nearest upsampling then a convolution (no checkerboard of transposed ones),
    joined with the encoder's level by concatenation."""

    def __init__(self, cin: int, skip: int, cout: int) -> None:
        super().__init__()
        self.reduce = _Conv(cin, cout)
        self.merge = nn.Sequential(_Conv(cout + skip, cout), _Residual(cout))

    def forward(self, x: Tensor, skip: Tensor) -> Tensor:
        x = self.reduce(F.interpolate(x, scale_factor=2.0, mode="nearest"))
        return self.merge(torch.cat([x, skip], 1))  # type: ignore[no-any-return]


@dataclass
class Refined:
    """The generator's three heads, each (N, C, H, W): ``rgb`` in [-1, 1], ``keep``
    and ``seg`` in [0, 1]; ``fused`` is the warped crop where ``keep`` says, ``rgb``
    elsewhere."""

    rgb: Tensor
    keep: Tensor
    seg: Tensor
    fused: Tensor


class RefineGenerator(nn.Module):
    """Residual U-Net: ``levels`` stride-2 steps, ``blocks`` residual blocks."""

    def __init__(self, options: FsganOptions) -> None:
        super().__init__()
        w = options.width
        widths = [min(w * 2 ** i, w * 8) for i in range(options.levels + 1)]
        self.stem = nn.Sequential(_Conv(options.in_channels, w), _Conv(w, w))
        self.downs = nn.ModuleList(
            nn.Sequential(_Conv(widths[i], widths[i + 1], 2), _Residual(widths[i + 1]))
            for i in range(options.levels))
        self.middle = nn.Sequential(*(_Residual(widths[-1]) for _ in range(options.blocks)))
        self.ups = nn.ModuleList(_Up(widths[i + 1], widths[i], widths[i])
                                 for i in reversed(range(options.levels)))
        self.head = nn.Conv2d(w, 4, 3, 1, 1)
        # The mask has its own layer: its logits grow large as it grows sure, which
        # through a shared last layer disturbed the face's colours and made training
        # diverge.
        self.seg_head = nn.Sequential(_Conv(w, w), nn.Conv2d(w, 1, 3, 1, 1))
        with torch.no_grad():  # start as the warp: the network learns corrections
            self.head.weight.mul_(0.1)
            assert self.head.bias is not None
            self.head.bias.zero_()

    def forward(self, x: Tensor) -> Tensor:
        """(N, in_channels, S, S) to the raw heads (N, 5, S, S); :func:`heads` splits
        them. One tensor out keeps DDP and ``torch.compile`` simple."""
        skips = [self.stem(x)]
        for down in self.downs:
            skips.append(down(skips[-1]))
        y = self.middle(skips.pop())
        for up in self.ups:
            y = up(y, skips.pop())
        return torch.cat([self.head(y), self.seg_head(y)], 1)


def heads(raw: Tensor, warped: Tensor) -> Refined:
    """Split the generator's output and fuse it with the ``warped`` crop ([-1, 1])."""
    # The face is a correction of the warped crop (in tanh's range, so it stays in
    # [-1, 1] and keeps its gradient): an untrained model gives the warp back.
    rgb = torch.tanh(raw[:, :3] + torch.atanh(warped.clamp(-0.995, 0.995)))
    keep = torch.sigmoid(raw[:, 3:4])
    seg = torch.sigmoid(raw[:, 4:5])
    return Refined(rgb, keep, seg, keep * warped + (1 - keep) * rgb)


class PatchDiscriminator(nn.Module):
    """A PatchGAN that returns every layer's activations (the last is the logits)."""

    def __init__(self, in_channels: int, width: int, layers: int = 3) -> None:
        super().__init__()
        blocks: list[nn.Module] = [nn.Sequential(nn.Conv2d(in_channels, width, 4, 2, 1),
                                                 nn.LeakyReLU(0.2, True))]
        channels = width
        for n in range(1, layers + 1):
            out = min(width * 2 ** n, width * 8)
            stride = 2 if n < layers else 1
            blocks.append(nn.Sequential(nn.Conv2d(channels, out, 4, stride, 1),
                                        _norm(out), nn.LeakyReLU(0.2, True)))
            channels = out
        blocks.append(nn.Conv2d(channels, 1, 4, 1, 1))
        self.blocks = nn.ModuleList(blocks)

    def forward(self, x: Tensor) -> list[Tensor]:
        features = []
        for block in self.blocks:
            x = block(x)
            features.append(x)
        return features


class MultiscaleDiscriminator(nn.Module):
    """pix2pixHD's: the same PatchGAN design at full, half, quarter... resolution."""

    def __init__(self, options: FsganOptions, in_channels: int) -> None:
        super().__init__()
        layers = 3 if options.size >= 128 else 2
        self.scales = nn.ModuleList(PatchDiscriminator(in_channels, options.d_width, layers)
                                    for _ in range(options.d_scales))

    def forward(self, x: Tensor) -> list[list[Tensor]]:
        out = []
        for i, d in enumerate(self.scales):
            if i:
                x = F.avg_pool2d(x, 3, 2, 1, count_include_pad=False)
            out.append(d(x))
        return out
