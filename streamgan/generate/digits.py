"""Moving handwritten digits over static textured backgrounds: data the project can
make itself, with no download, for training and measuring the shipped video GAN.

The digits are scikit-learn's bundled 8x8 set (1797 images); the first 1500 are for
training, the rest held out for the benchmark. Each clip is one digit moving at a
constant velocity, bouncing off the frame's edges, over a smooth random colour field
that never moves: exactly the split the two-stream generator is built to learn.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

TRAIN_IMAGES = 1500
"""scikit-learn digits before this index train; the rest are held out."""

DIGIT_SCALE = 0.45
"""Digit height as a fraction of the frame."""


@dataclass(frozen=True)
class DigitSet:
    """Digit images as alpha in [0, 1] (N, 8, 8) with their labels."""

    alpha: NDArray[np.float32]
    labels: NDArray[np.int64]


def load_digits(split: str) -> DigitSet:
    """The ``"train"`` or ``"heldout"`` part of scikit-learn's bundled digits."""
    try:
        from sklearn.datasets import load_digits as sklearn_digits
    except ImportError as e:  # a training-data extra, not needed to sample
        raise RuntimeError("the moving-digits data needs scikit-learn "
                           "(pip install 'streamgan[test]')") from e
    data = sklearn_digits()
    images = (data.images / 16.0).astype(np.float32)
    labels = data.target.astype(np.int64)
    part = slice(0, TRAIN_IMAGES) if split == "train" else slice(TRAIN_IMAGES, None)
    if split not in ("train", "heldout"):
        raise ValueError(f"split must be 'train' or 'heldout', not {split!r}")
    return DigitSet(images[part], labels[part])


@dataclass(frozen=True)
class DigitClip:
    """One rendered clip and what is in it (for measuring generated ones)."""

    frames: NDArray[np.uint8]
    """(T, H, W, 3) RGB."""
    label: int
    positions: NDArray[np.float32]
    """(T, 2) top-left corner of the digit, pixels."""
    box: int
    """Digit box side, pixels."""


def background(rng: np.random.Generator, size: int) -> NDArray[np.float32]:
    """A smooth static colour field in [40, 170] (darker than the digits): a few
    random low-frequency waves per channel over a random base colour."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / size
    base = rng.uniform(60, 150, 3)
    field = np.empty((size, size, 3), np.float32)
    for c in range(3):
        wave = np.zeros((size, size), np.float32)
        for _ in range(3):
            fx, fy = rng.uniform(-3, 3, 2)
            wave += np.cos(2 * np.pi * (fx * xx + fy * yy) + rng.uniform(0, 2 * np.pi))
        field[..., c] = base[c] + 10 * wave
    return np.asarray(np.clip(field, 40, 170), np.float32)


def digit_sprite(alpha8: NDArray[np.float32], box: int) -> NDArray[np.float32]:
    return np.asarray(np.clip(cv2.resize(alpha8, (box, box), interpolation=cv2.INTER_CUBIC),
                              0, 1), np.float32)


def bounce(start: NDArray[np.float64], velocity: NDArray[np.float64], frames: int,
           room: float) -> NDArray[np.float32]:
    """Positions of a point moving at ``velocity`` inside [0, room], reflecting at walls."""
    raw = start[None, :] + velocity[None, :] * np.arange(frames)[:, None]
    period = 2 * room
    folded = np.mod(raw, period)
    return np.where(folded > room, period - folded, folded).astype(np.float32)


def render_clip(rng: np.random.Generator, digits: DigitSet, frames: int, size: int,
                swap_at: int | None = None) -> DigitClip:
    """One clip: a random digit, colour, start, velocity and background.

    ``swap_at`` replaces the digit by one of another class from that frame on (a
    benchmark control that label consistency must catch)."""
    box = max(4, round(size * DIGIT_SCALE))
    index = int(rng.integers(len(digits.labels)))
    sprite = digit_sprite(digits.alpha[index], box)
    colour = rng.uniform(200, 255, 3).astype(np.float32)
    speed = rng.uniform(0.02, 0.06) * size
    angle = rng.uniform(0, 2 * np.pi)
    room = float(size - box)
    positions = bounce(rng.uniform(0, room, 2), speed * np.array([np.cos(angle),
                                                                  np.sin(angle)]),
                       frames, room)
    swap_sprite = None
    if swap_at is not None:
        others = np.flatnonzero(digits.labels != digits.labels[index])
        swap_sprite = digit_sprite(digits.alpha[int(rng.choice(others))], box)
    plate = background(rng, size)
    out = np.empty((frames, size, size, 3), np.uint8)
    for t in range(frames):
        layer = swap_sprite if swap_sprite is not None and swap_at is not None \
            and t >= swap_at else sprite
        out[t] = composite(plate, layer, colour, positions[t])
    return DigitClip(out, int(digits.labels[index]), positions, box)


def composite(plate: NDArray[np.float32], sprite: NDArray[np.float32],
              colour: NDArray[np.float32], corner: NDArray[np.float32]) -> NDArray[np.uint8]:
    """``sprite`` (alpha) in ``colour`` over ``plate`` at a sub-pixel ``corner`` (x, y)."""
    size = plate.shape[0]
    shift = np.array([[1, 0, corner[0]], [0, 1, corner[1]]], np.float32)
    alpha = cv2.warpAffine(sprite, shift, (size, size), flags=cv2.INTER_LINEAR)[..., None]
    return np.asarray(np.clip(plate * (1 - alpha) + colour * alpha + 0.5, 0, 255), np.uint8)
