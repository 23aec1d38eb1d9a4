"""Held-out self-reenactment: where a face model's output has a known right answer.

A clip's later frames, never trained on, are split into a still (the "photo") and a
driver; every engine animates the still with the driver's landmarks (measured against
the still's own, so the geometry asked for is exactly the real frame's) and the real
driver frame is the ground truth. Used by ``benchmarks/fsgan_quality.py`` and the tests.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from streamgan.engines.base import Drive, Engine, Target
from streamgan.engines.fsgan.crop import FaceCrop
from streamgan.engines.fsgan.data import Clip
from streamgan.media.yuv import yuv420_to_rgb
from streamgan.tracking import landmarks as L


@dataclass(frozen=True)
class HeldOut:
    """The still's frame index and the driving frames' (all from the held-out part)."""

    still: int
    driving: tuple[int, ...]


def held_out(clip: Clip, use_first: float) -> HeldOut:
    """Split the frames after the first ``use_first`` of ``clip``: the still is the most
    photo-like tracked frame there (eyes open, mouth shut), the rest drive it."""
    start = int(round(len(clip.frames) * use_first))
    tracked = [i for i in clip.tracked if i >= start]
    if len(tracked) < 3:
        raise ValueError("fewer than three held-out frames with a face")

    def neutral(i: int) -> float:
        lm = clip.landmarks[i]
        assert lm is not None
        return L.mouth_opening(lm) - 0.5 * L.eye_opening(lm)

    still = min(tracked, key=neutral)
    return HeldOut(still, tuple(i for i in tracked if i != still))


def render_self(engine: Engine, clip: Clip, split: HeldOut) -> Iterator[NDArray[np.uint8]]:
    """``engine``'s RGB output for every driving frame of ``split``."""
    still_lm = clip.landmarks[split.still]
    assert still_lm is not None
    engine.prepare(Target(clip.frames[split.still], still_lm))
    for i in split.driving:
        yield yuv420_to_rgb(engine.render(Drive(clip.frames[i], clip.landmarks[i], still_lm)))


def face_crops(frames: Sequence[NDArray[np.uint8]], clip: Clip, split: HeldOut,
               size: int = 256) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """The face region of each output and of its real frame, on the same crop (the
    real face's): (N, size, size, 3) twice. Scores on whole frames would be mostly
    the untouched background."""
    outs, reals = [], []
    for frame, i in zip(frames, split.driving, strict=True):
        lm = clip.landmarks[i]
        assert lm is not None
        crop = FaceCrop.of(lm, size)
        outs.append(crop.cut(frame))
        reals.append(crop.cut(clip.frames[i]))
    return np.stack(outs), np.stack(reals)


def psnr(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    """Peak signal-to-noise ratio in dB over all of ``a`` and ``b`` (8-bit)."""
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * float(np.log10(255.0 ** 2 / mse))


def part_masks(clip: Clip, split: HeldOut, rings: Sequence[Sequence[int]],
               size: int = 256) -> list[NDArray[np.bool_]]:
    """Per driving frame, the pixels inside ``rings`` of the real face (grown by 3 px)
    on :func:`face_crops`' crop: the face's outline, the mouth, the eyes."""
    masks = []
    for i in split.driving:
        lm = clip.landmarks[i]
        assert lm is not None
        pts = FaceCrop.of(lm, size).points(lm[:, :2])
        mask = np.zeros((size, size), np.uint8)
        for ring in rings:
            cv2.fillPoly(mask, [np.round(pts[list(ring)]).astype(np.int32)], 255)
        masks.append(cv2.dilate(mask, np.ones((7, 7), np.uint8)) > 0)
    return masks


def region_psnr(outs: NDArray[np.uint8], reals: NDArray[np.uint8],
                masks: Sequence[NDArray[np.bool_]]) -> float:
    """PSNR over the masked pixels of every crop together."""
    a = np.concatenate([o[m] for o, m in zip(outs, masks, strict=True)])
    b = np.concatenate([r[m] for r, m in zip(reals, masks, strict=True)])
    return psnr(a, b) if a.size else float("nan")
