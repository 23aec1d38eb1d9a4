"""Training pictures for translation models, from folders of images or videos.

Paired data (pix2pix) is either ``DIR/A`` and ``DIR/B`` holding files of the same
names (images, or videos whose frames correspond one to one), or, as in the pix2pix
datasets, images holding A and B side by side. Unpaired data (CycleGAN) is two
folders. Pictures are decoded once, scaled so the short side is the load size, and
kept in memory as uint8; batches are random crops, flipped at random (the same crop
and flip for both sides of a pair).
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
from streamgan.media.image import read_image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff")
RGB = NDArray[np.uint8]


def load_side(size: int) -> int:
    """The short side pictures are kept at: a little larger than the crop (286 for
    256, as both papers do), so crops move around."""
    return size + size // 8


def _fit(rgb: RGB, side: int) -> RGB:
    h, w = rgb.shape[:2]
    scale = side / min(h, w)
    size = (max(side, round(w * scale)), max(side, round(h * scale)))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(rgb, size, interpolation=interpolation))


def _files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise InputError(f"{folder}: not a folder of images or videos")
    files = sorted(p for p in folder.rglob("*") if p.is_file()
                   and p.suffix.lower() in IMAGE_SUFFIXES + VIDEO_SUFFIXES)
    if not files:
        raise InputError(f"{folder}: no images ({', '.join(IMAGE_SUFFIXES)}) or videos "
                         f"({', '.join(VIDEO_SUFFIXES)})")
    return files


def pictures(path: Path, max_frames: int = 300) -> list[RGB]:
    """The picture in an image file, or up to ``max_frames`` frames of a video spread
    over its length."""
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return [read_image(path)]
    with VideoReader(path, max_side=1024, audio=False) as reader:
        frames = [item.image for item in reader if not isinstance(item, AudioPacket)]
    if not frames:
        raise InputError(f"{path}: no frames")
    step = max(1, len(frames) // max_frames)
    return frames[::step][:max_frames]


def to_tensor(images: NDArray[np.uint8]) -> torch.Tensor:
    """(N, H, W, 3) uint8 -> (N, 3, H, W) float in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(images)).float().div_(127.5).sub_(1.0)
    return t.permute(0, 3, 1, 2).contiguous()


def to_uint8(images: torch.Tensor) -> NDArray[np.uint8]:
    """(N, 3, H, W) in [-1, 1] -> (N, H, W, 3) uint8."""
    v = images.detach().float().cpu().permute(0, 2, 3, 1).add(1.0).mul(127.5).round()
    return v.clamp(0, 255).to(torch.uint8).numpy()


def _crop(images: list[RGB], size: int, rng: np.random.Generator) -> list[RGB]:
    """The same random crop and flip of every picture in ``images`` (same shapes)."""
    h, w = images[0].shape[:2]
    top, left = int(rng.integers(h - size + 1)), int(rng.integers(w - size + 1))
    flip = bool(rng.integers(2))
    out = []
    for image in images:
        crop = image[top:top + size, left:left + size]
        out.append(crop[:, ::-1] if flip else crop)
    return out


class PairedSet:
    """Aligned (A, B) pictures for pix2pix."""

    def __init__(self, folder: Path, size: int, reverse: bool = False) -> None:
        self.size, side = size, load_side(size)
        self.pairs: list[tuple[RGB, RGB]] = []
        if (folder / "A").is_dir() and (folder / "B").is_dir():
            self._load_folders(folder, side)
        else:
            for path in _files(folder):
                for picture in pictures(path):
                    w = picture.shape[1] // 2
                    self.pairs.append((_fit(picture[:, :w], side), _fit(picture[:, w:2 * w],
                                                                         side)))
        if reverse:
            self.pairs = [(b, a) for a, b in self.pairs]
        log.info("%d training pairs", len(self.pairs))

    def _load_folders(self, folder: Path, side: int) -> None:
        a_files = {p.relative_to(folder / "A").with_suffix(""): p for p in _files(folder / "A")}
        b_files = {p.relative_to(folder / "B").with_suffix(""): p for p in _files(folder / "B")}
        common = sorted(set(a_files) & set(b_files))
        if not common:
            raise InputError(f"{folder}: no file in A/ has a partner of the same name in B/")
        if len(common) < max(len(a_files), len(b_files)):
            log.warning("%d files without a partner skipped",
                        len(a_files) + len(b_files) - 2 * len(common))
        for name in common:
            a_pics, b_pics = pictures(a_files[name]), pictures(b_files[name])
            if len(a_pics) != len(b_pics):
                raise InputError(f"{a_files[name]} and {b_files[name]}: {len(a_pics)} and "
                                 f"{len(b_pics)} frames; paired videos need the same count")
            for a, b in zip(a_pics, b_pics, strict=True):
                if b.shape[:2] != a.shape[:2]:
                    b = cv2.resize(b, (a.shape[1], a.shape[0]), interpolation=cv2.INTER_AREA)
                self.pairs.append((_fit(a, side), _fit(b, side)))

    def __len__(self) -> int:
        return len(self.pairs)

    def batch(self, rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        crops = [_crop(list(self.pairs[int(i)]), self.size, rng)
                 for i in rng.integers(len(self.pairs), size=n)]
        return (to_tensor(np.stack([c[0] for c in crops])),
                to_tensor(np.stack([c[1] for c in crops])))


class UnpairedSet:
    """Pictures of two domains for CycleGAN, drawn independently."""

    def __init__(self, folder_a: Path, folder_b: Path, size: int) -> None:
        self.size, side = size, load_side(size)
        self.a = [_fit(p, side) for path in _files(folder_a) for p in pictures(path)]
        self.b = [_fit(p, side) for path in _files(folder_b) for p in pictures(path)]
        log.info("%d A and %d B training pictures", len(self.a), len(self.b))

    def __len__(self) -> int:
        return max(len(self.a), len(self.b))

    def batch(self, rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        a = [_crop([self.a[int(i)]], self.size, rng)[0]
             for i in rng.integers(len(self.a), size=n)]
        b = [_crop([self.b[int(i)]], self.size, rng)[0]
             for i in rng.integers(len(self.b), size=n)]
        return to_tensor(np.stack(a)), to_tensor(np.stack(b))
