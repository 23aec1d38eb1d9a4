"""Make the paired pictures the shipped ``toon`` translation model is trained on.

Input (A): crops of pictures no one has to consent to: scikit-image's bundled photos
of things (a cat, coffee, a rocket, a galaxy field, tissue, a retina, textures), the
project's own synthetic samples (``samples/target.png`` and frames of
``samples/driver.mp4``: made-up faces, see samples/README.md) and procedurally
rendered scenes. Target (B): :func:`toon` of the same crop, a cartoon look made with
plain OpenCV: edge-preserving smoothing, soft colour levels and dark ink lines. The model
learns to do in one small network what the recipe does in several slow passes; its
job is to show the translation engine end to end, not to be a great style.

    python models/translate-toon/make_data.py --out /tmp/toon --pairs 600
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

RGB = NDArray[np.uint8]
log = logging.getLogger("make_data")
REPO = Path(__file__).resolve().parents[2]
SIDE = 288


def toon(rgb: RGB) -> RGB:
    """The cartoon recipe: edge-preserving smoothing, stronger colour, soft colour
    levels and dark ink where the picture has edges. Every step is smooth (ramps, not
    hard thresholds), so a small network can learn it in minutes."""
    smooth = np.ascontiguousarray(rgb)
    for _ in range(2):
        smooth = cv2.bilateralFilter(smooth, 7, 40, 5)
    f = smooth.astype(np.float32) / 255.0
    grey = f.mean(axis=2, keepdims=True)
    f = np.clip(grey + 1.5 * (f - grey), 0.0, 1.0)
    levels = 5.0
    x = f * levels
    base = np.floor(np.minimum(x, levels - 1e-3))
    t = np.clip((x - base - 0.2) / 0.6, 0.0, 1.0)
    f = (base + t * t * (3 - 2 * t)) / levels
    luma = cv2.GaussianBlur(cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
                            .astype(np.float32) / 255.0, (0, 0), 1.2)
    edge = np.hypot(cv2.Sobel(luma, cv2.CV_32F, 1, 0), cv2.Sobel(luma, cv2.CV_32F, 0, 1))
    ink = np.clip(1.0 - (edge - 0.08) * 3.0, 0.2, 1.0)[..., None]
    return np.asarray(np.clip(np.round(f * ink * 255), 0, 255), np.uint8)


def photos() -> list[RGB]:
    import skimage.data as data

    pictures: list[RGB] = []
    for name in ("chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry",
                 "colorwheel", "retina"):
        pictures.append(np.ascontiguousarray(getattr(data, name)()[..., :3]))
    for i, name in enumerate(("brick", "grass", "gravel")):
        gray = getattr(data, name)().astype(np.float32) / 255.0
        tint = np.array([[0.9, 0.7, 0.5], [0.5, 0.8, 0.4], [0.6, 0.6, 0.7]][i], np.float32)
        pictures.append(np.asarray(gray[..., None] * tint * 255, np.uint8))
    return pictures


def samples() -> list[RGB]:
    from streamgan.media import AudioPacket, VideoReader
    from streamgan.media.image import read_image

    pictures = [read_image(REPO / "samples" / "target.png")]
    with VideoReader(REPO / "samples" / "driver.mp4", audio=False) as reader:
        for item in reader:
            if not isinstance(item, AudioPacket) and item.index % 15 == 0:
                pictures.append(item.image)
    return pictures


def scene(rng: np.random.Generator, side: int = 384) -> RGB:
    """Shapes, gradients and noise textures: edges and flat areas of every colour."""
    y, x = np.mgrid[0:side, 0:side].astype(np.float32) / side
    a, b = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    angle = rng.uniform(0, np.pi)
    t = np.clip(np.cos(angle) * x + np.sin(angle) * y, 0, 1)[..., None]
    img = (a * (1 - t) + b * t).astype(np.float32)
    for _ in range(int(rng.integers(4, 12))):
        colour = tuple(float(c) for c in rng.uniform(0, 255, 3))
        centre = tuple(int(c) for c in rng.integers(0, side, 2))
        if rng.random() < 0.5:
            axes = tuple(int(c) for c in rng.integers(10, side // 3, 2))
            cv2.ellipse(img, centre, axes, float(rng.uniform(0, 180)), 0, 360, colour, -1,
                        cv2.LINE_AA)
        else:
            far = tuple(int(c) for c in rng.integers(0, side, 2))
            cv2.rectangle(img, centre, far, colour, -1 if rng.random() < 0.7 else 3)
    noise = cv2.GaussianBlur(rng.normal(0, 1, (side, side)).astype(np.float32), (0, 0),
                             float(rng.uniform(0.7, 4)))
    img += (noise * rng.uniform(5, 25))[..., None]
    return np.asarray(np.clip(img, 0, 255), np.uint8)


def crop(rng: np.random.Generator, picture: RGB) -> RGB:
    """A random square crop, scaled to SIDE, at a random zoom."""
    h, w = picture.shape[:2]
    side = int(rng.integers(min(h, w) // 3, min(h, w) + 1))
    top, left = int(rng.integers(h - side + 1)), int(rng.integers(w - side + 1))
    patch = picture[top:top + side, left:left + side]
    interpolation = cv2.INTER_AREA if side > SIDE else cv2.INTER_CUBIC
    return np.ascontiguousarray(cv2.resize(patch, (SIDE, SIDE), interpolation=interpolation))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--pairs", type=int, default=600)
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    from PIL import Image

    rng = np.random.default_rng(args.seed)
    sources = photos() + samples()
    for side in ("A", "B"):
        (args.out / side).mkdir(parents=True, exist_ok=True)
    for i in range(args.pairs):
        kind = rng.random()
        picture = scene(rng) if kind < 0.35 else sources[int(rng.integers(len(sources)))]
        a = crop(rng, picture)
        Image.fromarray(a).save(args.out / "A" / f"{i:04d}.png")
        Image.fromarray(toon(a)).save(args.out / "B" / f"{i:04d}.png")
    log.info("%d pairs in %s", args.pairs, args.out)


if __name__ == "__main__":
    main()
