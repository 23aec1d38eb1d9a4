"""Training clips cut from a directory of videos, decoded with streamgan's media I/O.

Every video is decoded once, scaled to the model's frame size (centre square crop)
and kept in memory as uint8; batches are random windows of consecutive frames. The
small models this trains fit easily; the paper's 64x64 clips cost 12 KB a frame.
"""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

from streamgan.errors import InputError
from streamgan.media import VIDEO_SUFFIXES, AudioPacket, VideoReader

log = logging.getLogger(__name__)


def square(rgb: NDArray[np.uint8], size: int) -> NDArray[np.uint8]:
    """The centre square of ``rgb`` scaled to ``size`` x ``size``."""
    h, w = rgb.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    crop = rgb[top:top + side, left:left + side]
    interpolation = cv2.INTER_AREA if side > size else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(crop, (size, size), interpolation=interpolation))


def to_tensor(frames: NDArray[np.uint8]) -> torch.Tensor:
    """(..., T, H, W, C) uint8 -> (..., C, T, H, W) float in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(frames)).float().div_(127.5).sub_(1.0)
    return t.movedim(-1, -4)


def to_uint8(video: torch.Tensor) -> NDArray[np.uint8]:
    """(..., C, T, H, W) in [-1, 1] -> (..., T, H, W, C) uint8."""
    v = video.detach().float().cpu().movedim(-4, -1).add(1.0).mul(127.5).round()
    return v.clamp(0, 255).to(torch.uint8).numpy()


class ClipSet:
    """All frames of a folder's videos at ``size``, cut into ``frames``-long windows."""

    def __init__(self, folder: Path, size: int, frames: int, step: int = 1) -> None:
        if step < 1:
            raise ValueError("frame step must be >= 1")
        if not folder.is_dir():
            raise InputError(f"{folder}: not a directory of videos")
        paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
        if not paths:
            raise InputError(f"{folder}: no videos found ({', '.join(VIDEO_SUFFIXES)})")
        self.frames, self.step, self.size = frames, step, size
        self.videos: list[NDArray[np.uint8]] = []
        span = (frames - 1) * step + 1
        skipped = 0
        for path in paths:
            with VideoReader(path, max_side=max(2 * size, 64), audio=False) as reader:
                decoded = [square(item.image, size) for item in reader
                           if not isinstance(item, AudioPacket)]
            if len(decoded) < span:
                skipped += 1
                continue
            self.videos.append(np.stack(decoded))
        if not self.videos:
            raise InputError(f"{folder}: no video has the {span} frames a clip needs")
        if skipped:
            log.warning("%d videos shorter than %d frames skipped", skipped, span)
        self.paths = paths
        self.starts = np.array([len(v) - span + 1 for v in self.videos])
        log.info("%d videos, %d frames, %d clip windows", len(self.videos),
                 sum(len(v) for v in self.videos), int(self.starts.sum()))

    @property
    def total_frames(self) -> int:
        return sum(len(v) for v in self.videos)

    def batch(self, rng: np.random.Generator, n: int) -> torch.Tensor:
        """``n`` random clips (N, C, T, H, W) in [-1, 1]; windows uniform over all videos."""
        weights = self.starts / self.starts.sum()
        picks = rng.choice(len(self.videos), size=n, p=weights)
        clips = []
        for v in picks:
            start = int(rng.integers(self.starts[v]))
            clips.append(self.videos[v][start:start + (self.frames - 1) * self.step + 1:
                                        self.step])
        return to_tensor(np.stack(clips))
