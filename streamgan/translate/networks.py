"""Generator and discriminator networks for per-frame image translation.

Three families load published checkpoints, so their module trees reproduce the
published state-dict layouts key for key (our own code, the same layer order):

- ``ResnetGenerator`` and ``UnetGenerator``: pytorch-CycleGAN-and-pix2pix's
  ``resnet_9blocks``/``resnet_6blocks`` (CycleGAN) and ``unet_256``/``unet_128``
  (pix2pix) generators, and its PatchGAN ``NLayerDiscriminator``;
- ``TransformerNet``: the PyTorch examples' fast-neural-style network.

``FastGenerator`` is streamgan's own small model, sized for live video on a CPU.

Value conventions differ: the CycleGAN/pix2pix generators and ``FastGenerator``
take and give RGB in [-1, 1] ("tanh"); ``TransformerNet`` takes and gives 0..255
("255", no output activation, so its output must be clamped by the caller).

Batch norm at inference. The pix2pix paper normalises with the statistics of the
test batch, not the running ones, and the reference test script does just that: it
never calls ``eval()`` unless asked, and runs one image per batch, so each image is
normalised by its own statistics. Batching video frames must not change that (nor
make one frame's output depend on its neighbours): with ``per_sample_norm`` on,
every batch-norm layer normalises each frame by its own mean and variance (instance
norm with the batch norm's affine weights, never touching the running statistics),
whatever else is in the batch. Dropout, which the reference also leaves on at test
time, is turned off by ``eval()``, so the output is deterministic. With
``per_sample_norm`` off the layers are ordinary ``BatchNorm2d`` (training, or
``eval()`` with the running statistics).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from types import MappingProxyType
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import Tensor, nn

NORMS = ("batch", "instance", "none")
"""Normalisations of the CycleGAN/pix2pix networks (the reference's ``--norm``)."""

SIDE_MULTIPLE: Mapping[str, int] = MappingProxyType({
    "resnet": 4, "unet_256": 256, "unet_128": 128, "transformer": 4, "fast": 4})
"""Frame sides must be a multiple of this many pixels for the output to have the
input's size (a U-Net with ``num_downs`` levels needs ``2 ** num_downs``)."""

VALUE_RANGE: Mapping[str, str] = MappingProxyType({
    "resnet": "tanh", "unet": "tanh", "transformer": "255", "fast": "tanh"})
"""Pixel convention per kind: "tanh" is RGB in [-1, 1], "255" is RGB in 0..255."""


def side_multiple(kind: str, options: Mapping[str, Any]) -> int:
    """What frame sides must be a multiple of for a generator ``kind`` built with
    ``options`` (its constructor keywords)."""
    if kind == "unet":
        return 1 << int(options.get("num_downs", 8))
    if kind not in SIDE_MULTIPLE:
        raise ValueError(f"unknown generator kind {kind!r}")
    return SIDE_MULTIPLE[kind]


class FrameBatchNorm2d(nn.BatchNorm2d):
    """``BatchNorm2d`` (same parameters and buffers) that can normalise each sample by
    its own statistics, so batched video frames do not influence one another."""

    def __init__(self, num_features: int) -> None:
        super().__init__(num_features)
        self.per_sample = False

    def forward(self, input: Tensor) -> Tensor:
        if self.per_sample:
            # What train-mode batch norm computes for a batch of one (biased variance),
            # without touching the running statistics.
            return F.instance_norm(input, weight=self.weight, bias=self.bias,
                                   use_input_stats=True, eps=self.eps)
        return super().forward(input)


def set_per_sample_norm(net: nn.Module, enabled: bool = True) -> int:
    """Switch every :class:`FrameBatchNorm2d` in ``net`` to per-sample statistics (or
    back); returns how many layers it switched."""
    layers = [m for m in net.modules() if isinstance(m, FrameBatchNorm2d)]
    for layer in layers:
        layer.per_sample = enabled
    return len(layers)


def _norm(norm: str, channels: int) -> nn.Module:
    if norm == "batch":
        return FrameBatchNorm2d(channels)
    if norm == "instance":
        return nn.InstanceNorm2d(channels, affine=False, track_running_stats=False)
    if norm == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {', '.join(NORMS)}, not {norm!r}")


def _conv_bias(norm: str) -> bool:
    """The reference gives convolutions a bias only before instance norm (batch norm
    has its own shift; with no norm it gives none either, and so must we)."""
    if norm not in NORMS:
        raise ValueError(f"norm must be one of {', '.join(NORMS)}, not {norm!r}")
    return norm == "instance"


class _BatchNormNet(nn.Module):
    """A network that may hold batch norm, with a ``per_sample_norm`` switch."""

    @property
    def per_sample_norm(self) -> bool:
        """Whether batch-norm layers use each sample's own statistics (see module doc)."""
        return any(m.per_sample for m in self.modules() if isinstance(m, FrameBatchNorm2d))

    @per_sample_norm.setter
    def per_sample_norm(self, enabled: bool) -> None:
        set_per_sample_norm(self, enabled)


class ResnetBlock(nn.Module):
    """Two reflection-padded 3x3 convolutions with a skip (``conv_block.{1,5}``;
    ``conv_block.{1,6}`` with dropout, which sits between them)."""

    def __init__(self, dim: int, norm: str, use_dropout: bool) -> None:
        super().__init__()
        bias = _conv_bias(norm)
        layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias),
                                   _norm(norm, dim), nn.ReLU(True)]
        if use_dropout:
            layers.append(nn.Dropout(0.5))
        layers += [nn.ReflectionPad2d(1), nn.Conv2d(dim, dim, 3, bias=bias), _norm(norm, dim)]
        self.conv_block = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        residual: Tensor = self.conv_block(x)
        return x + residual


class ResnetGenerator(_BatchNormNet):
    """CycleGAN's generator: 7x7 stem, two stride-2 downsamplings, ``n_blocks``
    residual blocks at 1/4 resolution, two transposed-convolution upsamplings, 7x7
    output with tanh. One flat ``model`` Sequential, as in the published files."""

    value_range: ClassVar[str] = "tanh"
    multiple: ClassVar[int] = 4

    def __init__(self, input_nc: int = 3, output_nc: int = 3, ngf: int = 64,
                 n_blocks: int = 9, norm: str = "instance", use_dropout: bool = False) -> None:
        super().__init__()
        if n_blocks < 0:
            raise ValueError("n_blocks must be >= 0")
        bias = _conv_bias(norm)
        layers: list[nn.Module] = [nn.ReflectionPad2d(3),
                                   nn.Conv2d(input_nc, ngf, 7, bias=bias),
                                   _norm(norm, ngf), nn.ReLU(True)]
        channels = ngf
        for _ in range(2):
            layers += [nn.Conv2d(channels, channels * 2, 3, stride=2, padding=1, bias=bias),
                       _norm(norm, channels * 2), nn.ReLU(True)]
            channels *= 2
        layers += [ResnetBlock(channels, norm, use_dropout) for _ in range(n_blocks)]
        for _ in range(2):
            layers += [nn.ConvTranspose2d(channels, channels // 2, 3, stride=2, padding=1,
                                          output_padding=1, bias=bias),
                       _norm(norm, channels // 2), nn.ReLU(True)]
            channels //= 2
        layers += [nn.ReflectionPad2d(3), nn.Conv2d(ngf, output_nc, 7), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)  # type: ignore[no-any-return]


class UnetBlock(nn.Module):
    """One level of the U-Net: down, the inner levels, up, and (except outermost) the
    input concatenated to the result. Its ``model`` Sequential keeps the reference's
    indices: ``1`` down conv, ``2`` down norm, ``3`` inner level, ``5`` up conv,
    ``6`` up norm (innermost: ``1``, ``3``, ``4``; outermost: ``0``, ``1``, ``3``)."""

    def __init__(self, outer_nc: int, inner_nc: int, *, input_nc: int | None = None,
                 inner: UnetBlock | None = None, outermost: bool = False,
                 norm: str = "batch", use_dropout: bool = False) -> None:
        super().__init__()
        self.outermost = outermost
        bias = _conv_bias(norm)
        down = nn.Conv2d(input_nc if input_nc is not None else outer_nc, inner_nc, 4,
                         stride=2, padding=1, bias=bias)
        layers: list[nn.Module]
        if outermost:
            if inner is None:
                raise ValueError("the outermost U-Net level needs an inner level")
            up = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1)
            layers = [down, inner, nn.ReLU(True), up, nn.Tanh()]
        elif inner is None:
            up = nn.ConvTranspose2d(inner_nc, outer_nc, 4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down, nn.ReLU(True), up, _norm(norm, outer_nc)]
        else:
            up = nn.ConvTranspose2d(inner_nc * 2, outer_nc, 4, stride=2, padding=1, bias=bias)
            layers = [nn.LeakyReLU(0.2, True), down, _norm(norm, inner_nc), inner,
                      nn.ReLU(True), up, _norm(norm, outer_nc)]
            if use_dropout:
                layers.append(nn.Dropout(0.5))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        if self.outermost:
            return self.model(x)  # type: ignore[no-any-return]
        return torch.cat([x, self.model(x)], 1)


class UnetGenerator(_BatchNormNet):
    """pix2pix's U-Net: ``num_downs`` stride-2 levels (8 for 256x256 frames, whose
    bottleneck is then 1x1) with skips between mirrored levels. Channels double from
    ``ngf`` up to ``8 * ngf``; the 8*ngf levels between the fourth and the innermost
    carry dropout when ``use_dropout`` (training only: ``eval()`` turns it off)."""

    value_range: ClassVar[str] = "tanh"

    def __init__(self, input_nc: int = 3, output_nc: int = 3, num_downs: int = 8,
                 ngf: int = 64, norm: str = "batch", use_dropout: bool = True) -> None:
        super().__init__()
        if num_downs < 5:
            raise ValueError("num_downs must be >= 5")
        self.num_downs = num_downs
        top = ngf * 8
        block = UnetBlock(top, top, norm=norm)
        for _ in range(num_downs - 5):
            block = UnetBlock(top, top, inner=block, norm=norm, use_dropout=use_dropout)
        for outer in (ngf * 4, ngf * 2, ngf):
            block = UnetBlock(outer, outer * 2, inner=block, norm=norm)
        self.model = UnetBlock(output_nc, ngf, input_nc=input_nc, inner=block,
                               outermost=True, norm=norm)

    @property
    def multiple(self) -> int:
        """Frame sides must be a multiple of ``2 ** num_downs``."""
        return 1 << self.num_downs

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)  # type: ignore[no-any-return]


class _PadConv(nn.Module):
    """Optional nearest upsampling, reflection padding by half the kernel, then a
    convolution (fast-neural-style's ``ConvLayer`` / ``UpsampleConvLayer``: the
    upsampling avoids transposed-convolution checkerboards)."""

    def __init__(self, cin: int, cout: int, kernel: int, stride: int = 1,
                 upsample: int = 1) -> None:
        super().__init__()
        self.upsample = upsample
        self.reflection_pad = nn.ReflectionPad2d(kernel // 2)
        self.conv2d = nn.Conv2d(cin, cout, kernel, stride)

    def forward(self, x: Tensor) -> Tensor:
        if self.upsample > 1:
            x = F.interpolate(x, mode="nearest", scale_factor=self.upsample)
        return self.conv2d(self.reflection_pad(x))  # type: ignore[no-any-return]


class _StyleResidual(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = _PadConv(channels, channels, 3)
        self.in1 = nn.InstanceNorm2d(channels, affine=True)
        self.conv2 = _PadConv(channels, channels, 3)
        self.in2 = nn.InstanceNorm2d(channels, affine=True)

    def forward(self, x: Tensor) -> Tensor:
        residual: Tensor = self.in2(self.conv2(F.relu(self.in1(self.conv1(x)))))
        return x + residual


class TransformerNet(nn.Module):
    """fast-neural-style's network (Johnson et al. 2016 with instance norm): RGB in
    0..255 to RGB roughly in 0..255 (unbounded: clamp it)."""

    value_range: ClassVar[str] = "255"
    multiple: ClassVar[int] = 4

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = _PadConv(3, 32, 9)
        self.in1 = nn.InstanceNorm2d(32, affine=True)
        self.conv2 = _PadConv(32, 64, 3, stride=2)
        self.in2 = nn.InstanceNorm2d(64, affine=True)
        self.conv3 = _PadConv(64, 128, 3, stride=2)
        self.in3 = nn.InstanceNorm2d(128, affine=True)
        self.res1 = _StyleResidual(128)
        self.res2 = _StyleResidual(128)
        self.res3 = _StyleResidual(128)
        self.res4 = _StyleResidual(128)
        self.res5 = _StyleResidual(128)
        self.deconv1 = _PadConv(128, 64, 3, upsample=2)
        self.in4 = nn.InstanceNorm2d(64, affine=True)
        self.deconv2 = _PadConv(64, 32, 3, upsample=2)
        self.in5 = nn.InstanceNorm2d(32, affine=True)
        self.deconv3 = _PadConv(32, 3, 9)

    def forward(self, x: Tensor) -> Tensor:
        y = F.relu(self.in1(self.conv1(x)))
        y = F.relu(self.in2(self.conv2(y)))
        y = F.relu(self.in3(self.conv3(y)))
        y = self.res5(self.res4(self.res3(self.res2(self.res1(y)))))
        y = F.relu(self.in4(self.deconv1(y)))
        y = F.relu(self.in5(self.deconv2(y)))
        return self.deconv3(y)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class FastOptions:
    """Shape of a :class:`FastGenerator`; stored in its checkpoints."""

    width: int = 16
    """Channels are ``2 * width`` at 1/2 resolution and ``4 * width`` at 1/4."""
    blocks: int = 4
    """Residual blocks at 1/4 resolution."""
    input_nc: int = 3
    output_nc: int = 3
    residual: bool = True
    """Predict a correction added to the input (clamped to [-1, 1]); else tanh."""

    def __post_init__(self) -> None:
        if self.width < 1 or self.blocks < 0 or self.input_nc < 1 or self.output_nc < 1:
            raise ValueError("width, input_nc and output_nc must be positive, blocks >= 0")
        if self.residual and self.input_nc != self.output_nc:
            raise ValueError("a residual FastGenerator needs input_nc == output_nc")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> FastOptions:
        known = {f.name for f in fields(FastOptions)}
        return FastOptions(**{k: v for k, v in data.items() if k in known})


class _SeparableBlock(nn.Module):
    """Residual block of two depthwise-3x3 + pointwise-1x1 convolutions: a 3x3
    receptive field per half at about a ninth of a full 3x3 convolution's cost."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.dw1 = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        self.pw1 = nn.Conv2d(channels, channels, 1)
        self.dw2 = nn.Conv2d(channels, channels, 3, padding=1, groups=channels)
        self.pw2 = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        residual: Tensor = self.pw2(self.dw2(F.relu(self.pw1(self.dw1(x)))))
        return x + residual


class FastGenerator(nn.Module):
    """streamgan's live translation model: RGB in [-1, 1] to RGB in [-1, 1].

    Full resolution is never convolved: oneDNN runs 3-channel full-size convolutions
    poorly, so the frame is folded 2x2 into 12 channels (pixel unshuffle), encoded at
    1/2 (``2 * width`` channels) and 1/4 (``4 * width``) resolution, refined by
    ``blocks`` separable residual blocks, reduced, nearest-upsampled and added to the
    1/2-resolution encoder features (skip), fused by a 3x3 convolution, and unfolded
    to full resolution (pixel shuffle). With ``residual`` the result is a correction
    to the input, clamped to [-1, 1]; its last convolution starts at zero, so an
    untrained model is the identity. No normalisation: a frame's output depends on
    that frame alone, whatever it is batched with.

    Cost at 320x240 with the defaults (75k parameters): 0.59 GMAC; measured 21.5 ms
    a frame median (19.7 ms best) with ``torch.set_num_threads(2)`` on this
    project's 2-core AMD EPYC machine, torch 2.13.0 CPU, batch 1, inference mode,
    cores otherwise idle: about 46 fps (50 at best). Other processes on the cores
    slow it down. Sides must be multiples of 4.
    """

    value_range: ClassVar[str] = "tanh"
    multiple: ClassVar[int] = 4

    def __init__(self, width: int = 16, blocks: int = 4, input_nc: int = 3,
                 output_nc: int = 3, residual: bool = True) -> None:
        super().__init__()
        o = FastOptions(width, blocks, input_nc, output_nc, residual)
        self.options = o
        half, quarter = 2 * o.width, 4 * o.width
        self.head = nn.Conv2d(4 * o.input_nc, half, 3, padding=1)
        self.down = nn.Conv2d(half, quarter, 3, stride=2, padding=1)
        self.body = nn.Sequential(*[_SeparableBlock(quarter) for _ in range(o.blocks)])
        self.reduce = nn.Conv2d(quarter, half, 1)
        self.fuse = nn.Conv2d(half, half, 3, padding=1)
        self.tail = nn.Conv2d(half, 4 * o.output_nc, 3, padding=1)
        if o.residual:
            nn.init.zeros_(self.tail.weight)
            if self.tail.bias is not None:
                nn.init.zeros_(self.tail.bias)

    @classmethod
    def from_options(cls, options: FastOptions) -> FastGenerator:
        return cls(**options.to_dict())

    def forward(self, x: Tensor) -> Tensor:
        skip = F.relu(self.head(F.pixel_unshuffle(x, 2)))
        h = self.body(F.relu(self.down(skip)))
        h = F.interpolate(self.reduce(h), scale_factor=2.0, mode="nearest")
        h = F.relu(self.fuse(F.relu(h + skip)))
        out = F.pixel_shuffle(self.tail(h), 2)
        if self.options.residual:
            return (x + out).clamp(-1.0, 1.0)
        return torch.tanh(out)


class NLayerDiscriminator(nn.Module):
    """The PatchGAN discriminator: with ``n_layers=3``, one logit per 70x70 patch.
    Stride-2 4x4 convolutions double the channels (up to ``8 * ndf``), then two
    stride-1 ones; LeakyReLU 0.2, normalisation on all but the first and last."""

    def __init__(self, input_nc: int, ndf: int = 64, n_layers: int = 3,
                 norm: str = "instance") -> None:
        super().__init__()
        if n_layers < 1:
            raise ValueError("n_layers must be >= 1")
        bias = _conv_bias(norm)
        layers: list[nn.Module] = [nn.Conv2d(input_nc, ndf, 4, stride=2, padding=1),
                                   nn.LeakyReLU(0.2, True)]
        mult = 1
        for n in range(1, n_layers + 1):
            prev, mult = mult, min(2 ** n, 8)
            stride = 2 if n < n_layers else 1
            layers += [nn.Conv2d(ndf * prev, ndf * mult, 4, stride=stride, padding=1,
                                 bias=bias),
                       _norm(norm, ndf * mult), nn.LeakyReLU(0.2, True)]
        layers.append(nn.Conv2d(ndf * mult, 1, 4, stride=1, padding=1))
        self.model = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.model(x)  # type: ignore[no-any-return]


def init_weights(net: nn.Module, gain: float = 0.02) -> None:
    """The reference's "normal" initialisation: convolution and linear weights from
    N(0, gain), their biases 0; batch-norm scales from N(1, gain), shifts 0."""
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
            nn.init.normal_(m.weight, 0.0, gain)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, gain)
            nn.init.zeros_(m.bias)
