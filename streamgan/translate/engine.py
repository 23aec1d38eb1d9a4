"""The translation engine: a generator on a device turning batches of frames into
translated frames of the same size. Files, ``serve`` and the benchmark all use it.

Frames are scaled to the working size (the model's own, or ``--size``), padded by
reflection to the sides the network needs (a multiple of 4, or of 256 for pix2pix's
U-Net) and cropped back, so any frame size works. On CUDA frames run in batches
under fp16 autocast in channels-last layout.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

from streamgan.train.distributed import World, pick_device
from streamgan.translate.formats import LoadedGenerator

log = logging.getLogger(__name__)

RGB = NDArray[np.uint8]
MIN_SIDE = 32


@dataclass(frozen=True)
class EngineOptions:
    """How the generator runs."""

    device: str = "cpu"
    size: int | None = None
    """Long side of the picture the network sees; None: the model's working size
    (a shipped live model's), else the frame's own."""
    half: bool | None = None
    """fp16 autocast; None: on CUDA only."""


def working_size(width: int, height: int, side: int | None) -> tuple[int, int]:
    """(width, height) with the long side ``side`` (never upscaled), aspect kept."""
    if side is None or max(width, height) <= side:
        return width, height
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


class Translator:
    """Runs one loaded generator; stateless between calls (temporal state lives in
    :class:`~streamgan.translate.temporal.TemporalFilter`)."""

    def __init__(self, generator: LoadedGenerator, options: EngineOptions | None = None) -> None:
        self.options = options or EngineOptions()
        self.generator = generator
        self.device = pick_device(self.options.device, World())
        self.cuda = self.device.type == "cuda"
        self.half = self.options.half if self.options.half is not None else self.cuda
        self.net = generator.net.to(self.device).eval()
        if self.cuda:
            self.net = self.net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.spec = generator.spec
        side = self.options.size
        if side is None:
            work = generator.extra.get("work_side")
            side = int(work) if isinstance(work, int | float) and work > 0 else None
        self.side = side

    @property
    def name(self) -> str:
        return self.generator.name

    def _padding(self, side: int) -> int:
        """Pixels to add to ``side``: up to the network's multiple, and to at least
        32 (a style network's 9x9 reflection padding needs room)."""
        m = self.spec.multiple
        return max(-(-side // m) * m, -(-MIN_SIDE // m) * m) - side

    def shrink(self, frames: Sequence[RGB]) -> list[RGB]:
        """``frames`` at the working size (the same arrays when that is their size)."""
        if not frames:
            return []
        height, width = frames[0].shape[:2]
        w, h = working_size(width, height, self.side)
        if (w, h) == (width, height):
            return list(frames)
        return [cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA) for f in frames]

    @staticmethod
    def grow(outputs: Sequence[RGB], width: int, height: int) -> list[RGB]:
        """Working-size ``outputs`` back at the frames' size."""
        return [o if o.shape[:2] == (height, width) else
                cv2.resize(o, (width, height), interpolation=cv2.INTER_LINEAR)
                for o in outputs]

    @torch.inference_mode()
    def run(self, small: Sequence[RGB]) -> list[RGB]:
        """The network on frames already at the working size, as one batch; outputs of
        the same size."""
        if not small:
            return []
        h, w = small[0].shape[:2]
        batch = torch.from_numpy(np.stack(small)).to(self.device, non_blocking=True)
        x = batch.permute(0, 3, 1, 2).float()
        if self.spec.value_range == "tanh":
            x = x.div_(127.5).sub_(1.0)
        pad_h, pad_w = self._padding(h), self._padding(w)
        if pad_h or pad_w:
            mode = "reflect" if pad_h < h and pad_w < w else "replicate"
            x = F.pad(x, (0, pad_w, 0, pad_h), mode=mode)
        if self.cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(self.device.type, dtype=torch.float16, enabled=self.half):
            y = self.net(x)
        y = y[:, :, :h, :w].float()
        if self.spec.value_range == "tanh":
            y = y.add(1.0).mul(127.5)
        return list(y.round_().clamp_(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())

    def __call__(self, frames: Sequence[RGB]) -> list[RGB]:
        """Translate ``frames`` (RGB uint8, all the same size) as one batch."""
        if not frames:
            return []
        height, width = frames[0].shape[:2]
        return self.grow(self.run(self.shrink(frames)), width, height)
