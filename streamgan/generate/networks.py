"""The networks of the two-stream video GAN.

The generator draws a clip as ``mask * foreground + (1 - mask) * background``: a 2-D
stream paints one static background, a 3-D stream paints a moving foreground and
the mask that says where it shows. The discriminator is 3-D convolutions over the
whole clip; the encoder (conditional model) maps a still to the latent code.
Every layer is a stride-2, kernel-4 (transposed) convolution, as in the paper; time
is only upsampled while frames remain to double.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from streamgan.generate.options import VganOptions


def _channels(options: VganOptions, level: int) -> int:
    """Channels after ``level`` upsamplings (level 0 is the 4x4 seed)."""
    return options.width * 2 ** (options.levels - 1 - level) if level < options.levels \
        else options.width


def _time_strides(options: VganOptions) -> list[int]:
    """Temporal stride of each upsampling layer: 2 until ``frames`` is reached."""
    doublings = (options.frames // options.seed_frames).bit_length() - 1
    return [2 if i < doublings else 1 for i in range(options.levels)]


class Generator(nn.Module):
    """z -> (video, foreground, mask, background), all shaped for ``options``."""

    def __init__(self, options: VganOptions) -> None:
        super().__init__()
        self.options = options
        o, top = options, _channels(options, 0)
        self.fg_seed = nn.Sequential(
            nn.ConvTranspose3d(o.z_dim, top, (o.seed_frames, 4, 4)),
            nn.BatchNorm3d(top), nn.ReLU(True))
        self.bg_seed = nn.Sequential(
            nn.ConvTranspose2d(o.z_dim, top, 4), nn.BatchNorm2d(top), nn.ReLU(True))
        fg: list[nn.Module] = []
        bg: list[nn.Module] = []
        strides = _time_strides(o)
        for level in range(o.levels - 1):
            cin, cout = _channels(o, level), _channels(o, level + 1)
            st = strides[level]
            fg += [nn.ConvTranspose3d(cin, cout, (4 if st == 2 else 3, 4, 4), (st, 2, 2),
                                      1, bias=False),
                   nn.BatchNorm3d(cout), nn.ReLU(True)]
            bg += [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False),
                   nn.BatchNorm2d(cout), nn.ReLU(True)]
        self.fg_body = nn.Sequential(*fg)
        self.bg_body = nn.Sequential(*bg)
        last, st = _channels(o, o.levels - 1), strides[-1]
        kt = 4 if st == 2 else 3
        self.fg_out = nn.ConvTranspose3d(last, o.channels, (kt, 4, 4), (st, 2, 2), 1)
        self.mask_out = nn.ConvTranspose3d(last, 1, (kt, 4, 4), (st, 2, 2), 1)
        self.bg_out = nn.ConvTranspose2d(last, o.channels, 4, 2, 1)

    def forward(self, z: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Video (N, C, T, H, W) in [-1, 1], and the foreground, mask (N, 1, T, H, W)
        in [0, 1] and background (N, C, H, W) it was made of."""
        h3 = self.fg_body(self.fg_seed(z[:, :, None, None, None]))
        foreground = torch.tanh(self.fg_out(h3))
        mask = torch.sigmoid(self.mask_out(h3))
        background = torch.tanh(self.bg_out(self.bg_body(self.bg_seed(z[:, :, None, None]))))
        video = mask * foreground + (1 - mask) * background[:, :, None]
        return video, foreground, mask, background


class Discriminator(nn.Module):
    """Clip (N, C, T, H, W) -> one real/fake logit per clip."""

    def __init__(self, options: VganOptions) -> None:
        super().__init__()
        o = options
        layers: list[nn.Module] = []
        strides = list(reversed(_time_strides(o)))
        cin = o.channels
        for i, level in enumerate(reversed(range(o.levels))):
            cout, st = _channels(o, level), strides[i]
            layers.append(nn.Conv3d(cin, cout, (4 if st == 2 else 3, 4, 4), (st, 2, 2), 1,
                                    bias=i == 0))
            if i > 0:  # no normalisation on the input layer (DCGAN)
                layers.append(nn.BatchNorm3d(cout))
            layers.append(nn.LeakyReLU(0.2, True))
            cin = cout
        layers.append(nn.Conv3d(cin, 1, (o.seed_frames, 4, 4)))
        self.net = nn.Sequential(*layers)

    def forward(self, video: Tensor) -> Tensor:
        logits: Tensor = self.net(video)
        return logits.flatten()


class Encoder(nn.Module):
    """Still (N, C, H, W) -> latent code (N, z_dim): the conditional model's front."""

    def __init__(self, options: VganOptions) -> None:
        super().__init__()
        o = options
        layers: list[nn.Module] = []
        cin = o.channels
        for i, level in enumerate(reversed(range(o.levels))):
            cout = _channels(o, level)
            layers += [nn.Conv2d(cin, cout, 4, 2, 1, bias=i == 0)]
            if i > 0:
                layers.append(nn.BatchNorm2d(cout))
            layers.append(nn.LeakyReLU(0.2, True))
            cin = cout
        layers += [nn.Conv2d(cin, o.z_dim, 4), nn.Flatten()]
        self.net = nn.Sequential(*layers)

    def forward(self, image: Tensor) -> Tensor:
        return torch.as_tensor(self.net(image))


def init_weights(module: nn.Module) -> None:
    """DCGAN initialisation: N(0, 0.02) convolutions, N(1, 0.02) norm scales."""
    if isinstance(module, (nn.Conv2d, nn.Conv3d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, (nn.BatchNorm2d, nn.BatchNorm3d)):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


def parameter_count(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())
