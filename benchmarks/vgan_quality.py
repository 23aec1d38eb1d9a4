"""Quality of the video GAN's moving digits, next to controls, measured in one run.

No downloaded network: a small digit classifier is trained here, on frames rendered
from the training digits, and everything is measured with it and with the pictures:

- IS: the Inception-style score exp(E[KL(p(y|frame) || p(y))]) over frames: high
  when each frame shows one clear digit and all ten digits occur (at most 10);
- consistency: the share of frames whose digit is the clip's majority digit (a digit
  changing identity mid-clip lowers it);
- motion: the digit's position is the centroid of its bright pixels (the digits are
  drawn brighter than any background); mean speed and mean acceleration in pixels
  per frame (linear motion has almost no acceleration, except at bounces);
- FD: Frechet distances between held-out real clips and each source, on the
  classifier's features (appearance) and on per-clip motion statistics (motion);
- mask: for the model, the mean mask on the moving digit and on the background,
  which says whether the generator really split foreground from background.

Controls, all from held-out clips (digits the model never saw): the real clips, the
first frame repeated (no motion), frames shuffled (motion broken), the digit swapped
half way, blurred, and noisy. Each figure's column shows what it catches.

Run: ``python benchmarks/vgan_quality.py [--model CKPT] [--clips 500] [--card CARD]``
(default: the shipped model; ``--card`` writes the table into its model card).
"""

from __future__ import annotations

import argparse
import logging
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from numpy.typing import NDArray
from scipy import linalg
from torch import nn

from streamgan.generate import checkpoint
from streamgan.generate.clips import square, to_uint8
from streamgan.generate.digits import DigitSet, load_digits, render_clip
from streamgan.generate.model import VideoGan

log = logging.getLogger("vgan_quality")

Clips = NDArray[np.uint8]
"""(N, T, H, W, 3) RGB."""

RENDER_SIZE = 64
"""Clips are rendered at the training data's size, then scaled as training does."""
BRIGHT = 185.0
"""Luma above any background (those stop at 170): digit pixels."""


# -- data ------------------------------------------------------------------------------

def rendered(digits: DigitSet, n: int, frames: int, size: int, seed: int,
             swap_at: int | None = None) -> Clips:
    rng = np.random.default_rng(seed)
    out = np.empty((n, frames, size, size, 3), np.uint8)
    for i in range(n):
        clip = render_clip(rng, digits, frames, RENDER_SIZE, swap_at=swap_at)
        out[i] = [square(f, size) for f in clip.frames]
    return out


def labelled_frames(digits: DigitSet, n: int, size: int, seed: int
                    ) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """``n`` single frames with their digit, for training the classifier."""
    rng = np.random.default_rng(seed)
    images, labels = [], []
    for _ in range(n // 4):
        clip = render_clip(rng, digits, 4, RENDER_SIZE)
        images += [square(f, size) for f in clip.frames]
        labels += [clip.label] * 4
    return np.stack(images), np.array(labels)


# -- the classifier ----------------------------------------------------------------------

class DigitNet(nn.Module):
    """A small CNN: frame -> 64 features -> 10 digit logits."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2),
            nn.Flatten(), nn.Linear(256, 64), nn.ReLU())
        self.head = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.features(x)
        return f, self.head(f)


def as_input(frames: NDArray[np.uint8]) -> torch.Tensor:
    return torch.from_numpy(frames).float().div(127.5).sub(1).permute(0, 3, 1, 2)


def train_classifier(digits: DigitSet, size: int, seed: int) -> DigitNet:
    images, labels = labelled_frames(digits, 16000, size, seed)
    torch.manual_seed(seed)
    net = DigitNet()
    opt = torch.optim.Adam(net.parameters(), 2e-3)
    x, y = as_input(images), torch.from_numpy(labels)
    epochs = 12
    schedule = torch.optim.lr_scheduler.OneCycleLR(opt, 4e-3, total_steps=epochs * (
        (len(x) + 127) // 128))
    for _epoch in range(epochs):
        order = torch.randperm(len(x))
        for start in range(0, len(x), 128):
            idx = order[start:start + 128]
            loss = nn.functional.cross_entropy(net(x[idx])[1], y[idx])
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            schedule.step()
    return net.eval()


@torch.no_grad()
def classify(net: DigitNet, clips: Clips) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per frame: features (N, T, 64) and class probabilities (N, T, 10)."""
    n, t = clips.shape[:2]
    flat = clips.reshape(n * t, *clips.shape[2:])
    feats, probs = [], []
    for start in range(0, len(flat), 1024):
        f, logits = net(as_input(flat[start:start + 1024]))
        feats.append(f.double().numpy())
        probs.append(torch.softmax(logits, 1).double().numpy())
    return (np.concatenate(feats).reshape(n, t, -1), np.concatenate(probs).reshape(n, t, -1))


# -- figures ---------------------------------------------------------------------------

def inception_score(probs: NDArray[np.float64]) -> float:
    p = probs.reshape(-1, probs.shape[-1])
    marginal = p.mean(0, keepdims=True)
    kl = (p * (np.log(p + 1e-12) - np.log(marginal + 1e-12))).sum(1)
    return float(np.exp(kl.mean()))


def consistency(probs: NDArray[np.float64]) -> float:
    labels = probs.argmax(-1)
    majority = np.array([np.bincount(row, minlength=10).argmax() for row in labels])
    return float((labels == majority[:, None]).mean())


def luma(clips: Clips) -> NDArray[np.float64]:
    return clips.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


def positions(clips: Clips) -> NDArray[np.float64]:
    """(N, T, 2) centroid of the bright (digit) pixels; NaN where there are none."""
    weight = np.clip(luma(clips) - BRIGHT, 0, None)
    h, w = clips.shape[2:4]
    total = weight.sum((2, 3))
    ys, xs = np.mgrid[0:h, 0:w]
    with np.errstate(invalid="ignore", divide="ignore"):
        cx = (weight * xs).sum((2, 3)) / total
        cy = (weight * ys).sum((2, 3)) / total
    return np.stack([cx, cy], -1)


def motion(clips: Clips) -> NDArray[np.float64]:
    """Per clip: mean speed, speed spread, mean |acceleration| (px/frame), and the
    share of frames where a digit was found."""
    p = positions(clips)
    with warnings.catch_warnings():  # clips where no digit shows give NaN, reported
        warnings.simplefilter("ignore", RuntimeWarning)
        return _motion(p)


def _motion(p: NDArray[np.float64]) -> NDArray[np.float64]:
    speed = np.linalg.norm(np.diff(p, axis=1), axis=-1)
    accel = np.linalg.norm(np.diff(p, 2, axis=1), axis=-1)
    found = np.isfinite(p[..., 0]).mean(1)
    return np.stack([np.nan_to_num(np.nanmean(speed, 1)) if speed.size else 0,
                     np.nan_to_num(np.nanstd(speed, 1)),
                     np.nan_to_num(np.nanmean(accel, 1)), found], -1)


def frechet(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    with warnings.catch_warnings():  # near-singular products (a static control) warn
        warnings.simplefilter("ignore")
        root = linalg.sqrtm(cov_a @ cov_b)
    return float(((mu_a - mu_b) ** 2).sum() + np.trace(cov_a + cov_b - 2 * np.real(root)))


@dataclass
class Row:
    name: str
    inception: float
    consistent: float
    speed: float
    accel: float
    found: float
    fd_appearance: float
    fd_motion: float
    mask_object: float | None = None
    mask_background: float | None = None


def measure(name: str, clips: Clips, net: DigitNet, reference: tuple[NDArray[np.float64],
                                                                      NDArray[np.float64]]
            ) -> Row:
    feats, probs = classify(net, clips)
    move = motion(clips)
    ref_feats, ref_move = reference
    return Row(name, inception_score(probs), consistency(probs), float(move[:, 0].mean()),
               float(move[:, 2].mean()), float(move[:, 3].mean()),
               frechet(feats.mean(1), ref_feats), frechet(move[:, :3], ref_move))


# -- sources ---------------------------------------------------------------------------

def model_clips(model: VideoGan, n: int, seed: int) -> tuple[Clips, NDArray[np.float64]]:
    """``n`` generated clips and their masks (N, T, H, W) in [0, 1]."""
    z = torch.randn(n, model.options.z_dim, generator=torch.Generator().manual_seed(seed))
    videos, masks = [], []
    for start in range(0, n, 64):
        sample = model.sample(z[start:start + 64])
        videos.append(to_uint8(sample.video))
        masks.append(sample.mask[:, 0].double().cpu().numpy())
    return np.concatenate(videos), np.concatenate(masks)


def blurred(clips: Clips) -> Clips:
    out = clips.copy()
    for c in out:
        for f in c:
            f[:] = cv2.GaussianBlur(f, (0, 0), 1.2)
    return out


def noisy(clips: Clips, seed: int) -> Clips:
    rng = np.random.default_rng(seed)
    return np.clip(clips + rng.normal(0, 25, clips.shape), 0, 255).astype(np.uint8)


def shuffled(clips: Clips, seed: int) -> Clips:
    rng = np.random.default_rng(seed)
    return np.stack([c[rng.permutation(len(c))] for c in clips])


def mask_split(clips: Clips, masks: NDArray[np.float64]) -> tuple[float, float]:
    """Mean mask where the frame shows the digit (bright) and everywhere else."""
    digit = luma(clips) > BRIGHT
    return float(masks[digit].mean()) if digit.any() else float("nan"), \
        float(masks[~digit].mean())


def table(rows: list[Row], note: str) -> str:
    head = ("| source | IS (max 10) | label consistency | speed px/f | accel px/f | "
            "digit found | FD appearance | FD motion | mask on digit | mask on background |")
    lines = [note, "", head, "|" + " --- |" * 10]
    for r in rows:
        masks = (f"{r.mask_object:.2f} | {r.mask_background:.2f}"
                 if r.mask_object is not None and r.mask_background is not None else "- | -")
        lines.append(f"| {r.name} | {r.inception:.2f} | {r.consistent:.3f} | {r.speed:.2f} | "
                     f"{r.accel:.2f} | {r.found:.2f} | {r.fd_appearance:.2f} | "
                     f"{r.fd_motion:.3f} | {masks} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--clips", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--card", type=Path, default=None,
                        help="write the table into this model card's quality section")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    started = time.perf_counter()
    path = args.model or checkpoint.shipped_model()
    model, _ = checkpoint.load(path)
    size, frames, n = model.options.size, model.options.frames, args.clips

    train_digits, held = load_digits("train"), load_digits("heldout")
    net = train_classifier(train_digits, size, args.seed)
    test_images, test_labels = labelled_frames(held, 2000, size, args.seed + 1)
    accuracy = float((classify(net, test_images[:, None])[1][:, 0].argmax(-1)
                      == test_labels).mean())
    log.info("classifier accuracy on held-out digit frames: %.3f", accuracy)

    # The reference every FD is taken against, and a second, independent held-out draw
    # the controls are made from: "real" shows what as good as real looks like.
    reference_clips = rendered(held, n, frames, size, args.seed + 2)
    ref_feats, _ = classify(net, reference_clips)
    reference = (ref_feats.mean(1), motion(reference_clips)[:, :3])
    real = rendered(held, n, frames, size, args.seed + 3)
    sources: list[tuple[str, Callable[[], Clips]]] = [
        ("real (held-out)", lambda: real),
        ("static: first frame repeated", lambda: np.repeat(real[:, :1], frames, 1)),
        ("shuffled frame order", lambda: shuffled(real, args.seed)),
        ("digit swapped half way", lambda: rendered(held, n, frames, size, args.seed + 4,
                                                    swap_at=frames // 2)),
        ("blurred (sigma 1.2 px)", lambda: blurred(real)),
        ("noisy (sigma 25)", lambda: noisy(real, args.seed)),
    ]
    rows = [measure(name, make(), net, reference) for name, make in sources]
    generated, masks = model_clips(model, n, args.seed)
    row = measure(f"model ({path.name}, step {model.step})", generated, net, reference)
    row.mask_object, row.mask_background = mask_split(generated, masks)
    rows.append(row)
    note = (f"Measured by `benchmarks/vgan_quality.py` on {n} clips per source "
            f"({size}x{size}, {frames} frames), against {n} held-out real clips; digit "
            f"classifier trained in the same run, {accuracy:.1%} accurate on held-out "
            f"frames. Machine: {platform.machine()}, {platform.python_version()}, "
            f"torch {torch.__version__}, {time.perf_counter() - started:.0f} s.")
    text = table(rows, note)
    print(text)
    if args.card is not None:
        from streamgan.train.card import set_quality

        set_quality(args.card, text)
        log.info("wrote the quality section of %s", args.card)


if __name__ == "__main__":
    main()
