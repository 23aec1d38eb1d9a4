"""Synthetic clips and flickering per-frame "models" for the temporal filter.

No real person and no downloaded data: every clip is procedural textures moved by
known affine motions, so the renderer knows exactly which pixels each frame
reveals (``Clip.disoccluded``), which is where ghosting would show. Frames get mild
Gaussian sensor noise, which is what makes per-frame models flicker.

The stand-in models are deliberately unstable under small input changes, as real
per-frame translation is: a fixed random-weight conv net with high gain (texture
"boils" with the sensor noise), a posterise stylisation whose thresholds the noise
flips, and per-frame random colour jitter on top. Anything ``Callable[[Frame],
Frame]`` can stand in their place (the benchmark takes any).

Imported by tests/translate and benchmarks/translate_flicker.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import torch
from numpy.typing import NDArray
from torch import nn

Frame = NDArray[np.uint8]
Mask = NDArray[np.bool_]
Affine = NDArray[np.float64]
"""2x3: layer (texture) coordinates -> image coordinates, one per frame."""
Model = Callable[[Frame], Frame]

NOISE = 2.0
"""Sensor noise, in 8-bit levels (standard deviation), unless told otherwise."""


@dataclass(frozen=True)
class Clip:
    """Frames and, per frame, the pixels nothing in the previous frame shows."""

    name: str
    frames: list[Frame]
    disoccluded: list[Mask]
    """Frame 0 and the first frame after a cut: everything."""
    cuts: tuple[int, ...] = ()
    """Frames that start a new shot."""


@dataclass(frozen=True)
class Layer:
    texture: Frame
    alpha: NDArray[np.float32] | None
    """Coverage in [0, 1] on the texture's grid; None: opaque everywhere."""
    motion: list[Affine]


# -- textures --------------------------------------------------------------------------

def texture(rng: np.random.Generator, height: int, width: int) -> Frame:
    """Coloured multi-scale noise with sharp shapes and thin lines on it: smooth areas,
    edges and thin structures, the things flow and filters get wrong."""
    img = np.zeros((height, width, 3), np.float32)
    for sigma, weight in ((24.0, 1.0), (8.0, 0.6), (2.5, 0.35)):
        noise = rng.normal(0, 1, (height, width, 3)).astype(np.float32)
        layer = cv2.GaussianBlur(noise, (0, 0), sigma)
        img += weight * layer / (layer.std() + 1e-6)
    img = (img - img.min()) / (img.max() - img.min() + 1e-6) * 170 + 40
    area = height * width
    for _ in range(int(np.clip(area // 2500, 6, 40))):
        colour = tuple(float(c) for c in rng.uniform(20, 235, 3))
        x, y = int(rng.uniform(0, width)), int(rng.uniform(0, height))
        r = int(rng.uniform(4, 0.08 * min(height, width) + 5))
        if rng.random() < 0.5:
            cv2.circle(img, (x, y), r, colour, -1, cv2.LINE_AA)
        else:
            cv2.rectangle(img, (x - r, y - r // 2), (x + r, y + r // 2), colour, -1)
    for _ in range(int(np.clip(area // 8000, 3, 10))):
        colour = tuple(float(c) for c in rng.uniform(20, 235, 3))
        p = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        q = (int(rng.uniform(0, width)), int(rng.uniform(0, height)))
        cv2.line(img, p, q, colour, 1 + int(rng.integers(0, 2)), cv2.LINE_AA)
    return np.asarray(np.clip(img + 0.5, 0, 255), np.uint8)


def ellipse_alpha(height: int, width: int) -> NDArray[np.float32]:
    """An anti-aliased ellipse filling a height x width box."""
    big = np.zeros((height * 4, width * 4), np.uint8)
    cv2.ellipse(big, (width * 2, height * 2), (width * 2 - 2, height * 2 - 2), 0, 0, 360, 255,
                -1)
    return np.asarray(cv2.resize(big, (width, height), interpolation=cv2.INTER_AREA),
                      np.float32) / 255.0


def _shift(dx: float, dy: float, scale: float = 1.0) -> Affine:
    return np.array([[scale, 0.0, dx], [0.0, scale, dy]])


# -- rendering -------------------------------------------------------------------------

def render(name: str, layers: list[Layer], height: int, width: int, frames: int,
           rng: np.random.Generator, noise: float = NOISE) -> Clip:
    """Composite the layers back to front, add noise, and work out the disocclusions."""
    out: list[Frame] = []
    ids: list[NDArray[np.int8]] = []
    for t in range(frames):
        acc = np.zeros((height, width, 3), np.float32)
        top = np.full((height, width), -1, np.int8)
        for i, layer in enumerate(layers):
            m = layer.motion[t]
            img = cv2.warpAffine(layer.texture, m, (width, height), flags=cv2.INTER_LINEAR,
                                 borderMode=cv2.BORDER_REFLECT).astype(np.float32)
            if layer.alpha is None:
                acc[:] = img
                top[:] = i
                continue
            a = cv2.warpAffine(layer.alpha, m, (width, height), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            acc = a[..., None] * img + (1 - a[..., None]) * acc
            top[a > 0.5] = i
        acc += rng.normal(0, noise, acc.shape).astype(np.float32)
        out.append(np.clip(acc + 0.5, 0, 255).astype(np.uint8))
        ids.append(top)
    masks = [np.ones((height, width), np.bool_)]
    masks += [_disoccluded(layers, ids, t) for t in range(1, frames)]
    return Clip(name, out, masks)


def _disoccluded(layers: list[Layer], ids: list[NDArray[np.int8]], t: int) -> Mask:
    """Pixels of frame t whose surface point was hidden or outside in frame t-1."""
    height, width = ids[t].shape
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float64)
    revealed = np.ones((height, width), np.bool_)
    for i, layer in enumerate(layers):
        here = ids[t] == i
        if not here.any():
            continue
        now = np.vstack([layer.motion[t], [0, 0, 1]])
        before = np.vstack([layer.motion[t - 1], [0, 0, 1]])
        m = (before @ np.linalg.inv(now))[:2]
        px = m[0, 0] * xs + m[0, 1] * ys + m[0, 2]
        py = m[1, 0] * xs + m[1, 1] * ys + m[1, 2]
        inside = (px >= 0) & (px <= width - 1) & (py >= 0) & (py <= height - 1)
        qx = np.clip(np.rint(px), 0, width - 1).astype(np.intp)
        qy = np.clip(np.rint(py), 0, height - 1).astype(np.intp)
        seen = inside & (ids[t - 1][qy, qx] == i)
        revealed[here] = ~seen[here]
    return revealed


# -- the scenes ------------------------------------------------------------------------

def camera_motion(frames: int = 30, height: int = 144, width: int = 256, seed: int = 0,
                  noise: float = NOISE) -> Clip:
    """A textured background panning right and down while zooming in and out."""
    rng = np.random.default_rng(seed)
    speed = np.array([0.012 * width, 0.005 * height])  # px per frame
    zoom = [1.0 + 0.08 * np.sin(2 * np.pi * t / max(frames, 2)) for t in range(frames)]
    margin = speed * frames + np.array([width, height]) / 0.9
    ch, cw = int(margin[1] + height) + 8, int(margin[0] + width) + 8
    bg = texture(rng, ch, cw)
    start = np.array([cw, ch]) / 2 - speed * frames / 2
    motion = []
    for t in range(frames):
        c = start + speed * t
        s = zoom[t]
        motion.append(_shift(width / 2 - s * c[0], height / 2 - s * c[1], s))
    return render("camera motion", [Layer(bg, None, motion)], height, width, frames, rng, noise)


def subject_motion(frames: int = 30, height: int = 144, width: int = 256, seed: int = 1,
                   noise: float = NOISE) -> Clip:
    """A textured object crossing a still textured background on a wavy path."""
    rng = np.random.default_rng(seed)
    bg = texture(rng, height, width)
    oh, ow = int(0.45 * height), int(0.3 * width)
    obj = texture(rng, oh, ow)
    path = []
    for t in range(frames):
        u = t / max(frames - 1, 1)
        x = -0.1 * width + u * 0.9 * width
        y = 0.5 * height - oh / 2 + 0.15 * height * np.sin(2 * np.pi * u)
        path.append(_shift(x, y))
    layers = [Layer(bg, None, [_shift(0, 0)] * frames),
              Layer(obj, ellipse_alpha(oh, ow), path)]
    return render("subject motion", layers, height, width, frames, rng, noise)


def occlusion(frames: int = 30, height: int = 144, width: int = 256, seed: int = 2,
              noise: float = NOISE) -> Clip:
    """A big object passing in front of a smaller one standing still, and a thin pole
    sweeping the other way: both uncover pixels behind them every frame."""
    rng = np.random.default_rng(seed)
    bg = texture(rng, height, width)
    bh, bw = int(0.5 * height), int(0.22 * width)
    back = texture(rng, bh, bw)
    fh, fw = int(0.7 * height), int(0.35 * width)
    front = texture(rng, fh, fw)
    pole = np.full((height, 3, 3), (235, 235, 60), np.uint8)
    pole_alpha = np.ones((height, 3), np.float32)
    still = [_shift(0.4 * width, 0.25 * height)] * frames
    sweep, poles = [], []
    for t in range(frames):
        u = t / max(frames - 1, 1)
        sweep.append(_shift(-0.2 * width + u * 1.05 * width, 0.15 * height))
        poles.append(_shift(0.95 * width - u * 0.9 * width, 0))
    layers = [Layer(bg, None, [_shift(0, 0)] * frames),
              Layer(back, np.ones((bh, bw), np.float32), still),
              Layer(front, ellipse_alpha(fh, fw), sweep),
              Layer(pole, pole_alpha, poles)]
    return render("occlusion", layers, height, width, frames, rng, noise)


def scene_cut(frames: int = 30, height: int = 144, width: int = 256, seed: int = 3,
              noise: float = NOISE) -> Clip:
    """Two unrelated camera-motion shots back to back; the cut is at frames // 2."""
    cut = frames // 2
    a = camera_motion(cut, height, width, seed, noise)
    b = camera_motion(frames - cut, height, width, seed + 100, noise)
    return Clip("scene cut", a.frames + b.frames, a.disoccluded + b.disoccluded, (cut,))


def static(frames: int = 120, height: int = 144, width: int = 256, seed: int = 4,
           noise: float = NOISE) -> Clip:
    """Nothing moves; only the sensor noise changes (drift and darkening show here)."""
    rng = np.random.default_rng(seed)
    bg = texture(rng, height, width)
    return render("static", [Layer(bg, None, [_shift(0, 0)] * frames)], height, width,
                  frames, rng, noise)


SCENES: dict[str, Callable[..., Clip]] = {
    "camera": camera_motion,
    "subject": subject_motion,
    "occlusion": occlusion,
    "cut": scene_cut,
}


# -- flickering stand-in models --------------------------------------------------------

class RandomConvNet:
    """A fixed random-weight conv net with high gain, seeded: like a real generator it
    keeps the picture's structure but changes its look (a 3x3 conv, a periodic
    activation, a 1x1 conv back to RGB, mixed with the input), and small input
    changes change its output: at the default gain a still shot's 2 levels of noise
    come out as 2.5, and sub-pixel motion makes its texture swim a little (warping
    error of a panning, zooming shot about 1.8x the input's). Higher gains flicker
    much more; ``ColourJitter`` adds the frame-to-frame colour wobble."""

    def __init__(self, seed: int = 0, gain: float = 3.0, width: int = 16,
                 mix: float = 0.6) -> None:
        g = torch.Generator().manual_seed(seed)
        self.first = nn.Conv2d(3, width, 3, padding=1)
        self.last = nn.Conv2d(width, 3, 1)
        with torch.no_grad():
            for conv in (self.first, self.last):
                fan_in = conv.weight[0].numel()
                conv.weight.copy_(torch.randn(conv.weight.shape, generator=g) / fan_in ** 0.5)
                assert conv.bias is not None
                conv.bias.copy_(torch.rand(conv.bias.shape, generator=g) * 2 * torch.pi)
            self.first.weight.mul_(gain)
            assert self.last.bias is not None
            self.last.bias.zero_()
        self.mix = mix

    def __call__(self, frame: Frame) -> Frame:
        x = torch.from_numpy(frame).float().div(127.5).sub(1).permute(2, 0, 1)[None]
        with torch.no_grad():
            y = torch.tanh(self.last(torch.sin(self.first(x))))
        out = (1 - self.mix) * x + self.mix * y
        img = out[0].permute(1, 2, 0).add(1).mul(127.5).clamp(0, 255).round()
        return np.ascontiguousarray(img.to(torch.uint8).numpy())


def posterise(levels: int = 6, saturation: float = 1.4) -> Model:
    """A stylisation that bins each channel into a few levels after a saturation boost:
    pixels near a threshold jump a whole level when the noise nudges them."""
    step = 255.0 / (levels - 1)

    def model(frame: Frame) -> Frame:
        f = frame.astype(np.float32)
        mean = f.mean(axis=2, keepdims=True)
        f = mean + saturation * (f - mean)
        return np.asarray(np.clip(np.rint(f / step) * step, 0, 255), np.uint8)

    return model


class ColourJitter:
    """Wraps a model with per-call random colour gain and offset (per channel): the
    frame-to-frame colour wobble of per-frame translation. Stateful, seeded."""

    def __init__(self, model: Model, amount: float = 4.0, seed: int = 0) -> None:
        self.model = model
        self.amount = amount
        self.rng = np.random.default_rng(seed)

    def __call__(self, frame: Frame) -> Frame:
        out = self.model(frame).astype(np.float32)
        gain = 1 + self.rng.normal(0, self.amount / 255.0, 3).astype(np.float32)
        offset = self.rng.normal(0, self.amount, 3).astype(np.float32)
        return np.clip(out * gain + offset + 0.5, 0, 255).astype(np.uint8)


def flickering_model(kind: str = "convnet", seed: int = 0, jitter: float = 6.0) -> Model:
    """A stand-in per-frame model by name: ``convnet``, ``posterise`` or ``identity``
    (no stylisation: only the jitter flickers), with colour jitter of ``jitter``.
    On a still shot the defaults flicker by about 6 levels (standard deviation over
    time: convnet), 8 (posterise)."""
    base: Model
    if kind == "convnet":
        base = RandomConvNet(seed)
    elif kind == "posterise":
        base = posterise()
    elif kind == "identity":
        def base(frame: Frame) -> Frame:
            return frame
    else:
        raise ValueError(f"unknown stand-in model {kind!r}")
    return ColourJitter(base, jitter, seed) if jitter > 0 else base
