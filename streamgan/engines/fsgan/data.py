"""Self-reenactment pairs: one frame of a clip warped onto another frame's landmarks,
next to the real other frame.

This is how a personal model learns without any labels: the ``warp`` engine, prepared
on a *source* frame, is driven to a *driving* frame of the same clip (the source's own
landmarks are the reference, so the motion is driving minus source); whatever the warp
gets wrong (teeth it never saw, lids, light, hair) is what the network must learn,
and the real driving frame is the answer. The warp's mouth fill is off: it would copy
the driving frame's own mouth, the very thing to be learned.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

from streamgan.engines.base import Drive, Target
from streamgan.engines.fsgan.crop import FaceCrop
from streamgan.engines.fsgan.heatmaps import boundary_maps
from streamgan.engines.warp.engine import WarpEngine, WarpSettings
from streamgan.media import AudioPacket, VideoReader
from streamgan.media.yuv import yuv420_to_rgb
from streamgan.tracking import landmarks as lm_idx
from streamgan.tracking.landmarks import Landmarks
from streamgan.tracking.tracker import FaceTracker, TrackerSettings

log = logging.getLogger(__name__)

_INVENTED = (lm_idx.INNER_LIP_RING,
             (lm_idx.RIGHT_EYE_CORNERS[0], *lm_idx.RIGHT_EYE_UPPER, lm_idx.RIGHT_EYE_CORNERS[1],
              *lm_idx.RIGHT_EYE_LOWER[::-1]),
             (lm_idx.LEFT_EYE_CORNERS[0], *lm_idx.LEFT_EYE_UPPER, lm_idx.LEFT_EYE_CORNERS[1],
              *lm_idx.LEFT_EYE_LOWER[::-1]))
"""Regions where a warp shows what the source had, not what the driver needs."""


@dataclass(frozen=True)
class Clip:
    """A video's frames (even sides) and their landmarks (None: no face found)."""

    frames: NDArray[np.uint8]
    landmarks: list[Landmarks | None]

    @property
    def tracked(self) -> list[int]:
        return [i for i, lm in enumerate(self.landmarks) if lm is not None]


def read_clip(path: Path, max_side: int | None = None, every: int = 1) -> Clip:
    """Every ``every``-th frame of ``path``, tracked without smoothing (a blink is
    three frames long; smoothing would teach the network lids that lag)."""
    frames: list[NDArray[np.uint8]] = []
    marks: list[Landmarks | None] = []
    with VideoReader(path, max_side=max_side, audio=False) as reader, \
            FaceTracker(TrackerSettings(smoothing=None)) as tracker:
        for item in reader:
            if isinstance(item, AudioPacket) or item.index % every:
                continue
            track = tracker.track(item.image, item.time)
            frames.append(item.image)
            marks.append(track.landmarks if track.detected else None)
    if not frames:
        return Clip(np.zeros((0, 2, 2, 3), np.uint8), [])
    return Clip(np.stack(frames), marks)


@dataclass(frozen=True)
class Pair:
    """One training example, all crop-sized: the warp's guess, where it can be trusted,
    the driving face's boundary maps and region, and the real driving crop."""

    warped: NDArray[np.uint8]
    valid: NDArray[np.float32]
    heat: NDArray[np.uint8]
    """(groups, size, size), 0..255: :func:`boundary_maps`."""
    face: NDArray[np.float32]
    real: NDArray[np.uint8]


def invented_mask(lm_crop: NDArray[np.float64], size: int) -> NDArray[np.float32]:
    """1 where the warp's pixels can be trusted, 0 inside the driving face's mouth
    opening and eyes (dilated), where only a model can know what shows."""
    hole = np.zeros((size, size), np.uint8)
    for ring in _INVENTED:
        cv2.fillPoly(hole, [np.round(lm_crop[list(ring), :2]).astype(np.int32)], 255)
    grow = max(1, size // 64)
    hole = cv2.dilate(hole, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    soft = cv2.GaussianBlur(hole.astype(np.float32) / 255.0, (0, 0), grow)
    return np.asarray(1.0 - np.clip(soft * 1.5, 0.0, 1.0), np.float32)


def face_mask(lm_crop: NDArray[np.float64], size: int) -> NDArray[np.float32]:
    """The face's region (inside the oval, a little grown and feathered): what the
    engine pastes back; hair and background stay the warp's."""
    region = np.zeros((size, size), np.uint8)
    cv2.fillPoly(region, [np.round(lm_crop[list(lm_idx.FACE_OVAL), :2]).astype(np.int32)],
                 255)
    grow = max(1, size // 48)
    region = cv2.dilate(region, np.ones((2 * grow + 1, 2 * grow + 1), np.uint8))
    return np.asarray(cv2.GaussianBlur(region.astype(np.float32) / 255.0, (0, 0), grow),
                      np.float32)


def inner_face(lm_crop: NDArray[np.float64], size: int) -> NDArray[np.float32]:
    """Inside the face's outline, pulled in from it, below the upper forehead, and
    feathered: where the engine lets the model paint (the crop is upright, so "above"
    is up). The outline and the hairline are left to the warp: hair moves there in
    footage, and a model that learned to move it invents coloured streaks under motion
    it never saw."""
    region = np.zeros((size, size), np.uint8)
    cv2.fillPoly(region, [np.round(lm_crop[list(lm_idx.FACE_OVAL), :2]).astype(np.int32)],
                 255)
    pull = max(1, size // 32)
    region = cv2.erode(region, np.ones((2 * pull + 1, 2 * pull + 1), np.uint8))
    brows = float(lm_crop[list(lm_idx.RIGHT_EYEBROW + lm_idx.LEFT_EYEBROW), 1].mean())
    top = float(lm_crop[lm_idx.FOREHEAD, 1])
    cut = int(np.clip(round(brows - 0.25 * (brows - top)), 0, size))
    region[:cut] = 0
    return np.asarray(cv2.GaussianBlur(region.astype(np.float32) / 255.0, (0, 0),
                                       max(1.0, size / 40)), np.float32)


def crop_inputs(warped: NDArray[np.uint8], lm: NDArray[np.float64], size: int,
                face_fraction: float) -> tuple[FaceCrop, NDArray[np.uint8],
                                               NDArray[np.float32], NDArray[np.uint8]]:
    """What the network sees of one warped frame whose face has landmarks ``lm``:
    the crop, the warped crop, where the warp can be trusted, the boundary maps."""
    crop = FaceCrop.of(lm, size, face_fraction)
    points = crop.points(lm[:, :2])
    heat = np.round(boundary_maps(points, size) * 255).astype(np.uint8)
    return crop, crop.cut(warped), invented_mask(points, size), heat


def render_pair(engine: WarpEngine, source_lm: Landmarks, frame: NDArray[np.uint8],
                lm: Landmarks, size: int, face_fraction: float) -> Pair:
    """The example for one driving frame, with ``engine`` prepared on the source."""
    warped = yuv420_to_rgb(engine.render(Drive(frame, lm, source_lm)))
    crop, cut, valid, heat = crop_inputs(warped, lm, size, face_fraction)
    return Pair(cut, valid, heat, face_mask(crop.points(lm[:, :2]), size), crop.cut(frame))


class SelfReenactmentSet:
    """A pool of self-reenactment pairs from clips of one person (or of many).

    Preparing the warp on a source takes about a second (segmentation, inpainting),
    so each clip gets a few sources, spread over it, and every tracked frame of the
    clip (or ``pairs_per_clip`` of them, for a corpus) is a driving frame for one of
    them; the pool is rendered once and batches are drawn from it. Only the pairs are
    kept: ``clips`` may be a generator that reads each clip when it is asked for.
    """

    def __init__(self, clips: Iterable[Clip], size: int, face_fraction: float,
                 sources_per_clip: int = 3, pairs_per_clip: int | None = None,
                 seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.size = size
        pairs: list[Pair] = []
        count = 0
        for clip in clips:  # one at a time: a clip's frames are dropped once rendered
            count += 1
            tracked = clip.tracked
            if len(tracked) < 2:
                continue
            picks = np.linspace(0, len(tracked) - 1, sources_per_clip + 2)[1:-1]
            sources = sorted({tracked[int(round(p))] for p in picks})
            driving = np.array(tracked)
            if pairs_per_clip is not None and pairs_per_clip < len(driving):
                driving = rng.choice(driving, pairs_per_clip, replace=False)
            for k, source in enumerate(sources):
                src_lm = clip.landmarks[source]
                assert src_lm is not None
                engine = WarpEngine(WarpSettings(mouth_fill=False))
                engine.prepare(Target(clip.frames[source], src_lm))
                for j in driving[k::len(sources)]:
                    lm = clip.landmarks[int(j)]
                    assert lm is not None
                    pairs.append(render_pair(engine, src_lm, clip.frames[int(j)], lm, size,
                                             face_fraction))
        if not pairs:
            raise ValueError("no clip has two frames with a face")
        self.pairs = pairs
        log.info("%d self-reenactment pairs at %d px from %d clips", len(pairs), size, count)

    def __len__(self) -> int:
        return len(self.pairs)

    def batch(self, rng: np.random.Generator, n: int) -> Batch:
        """``n`` random pairs, each mirrored half the time."""
        picks = [self.pairs[int(i)] for i in rng.integers(0, len(self.pairs), n)]
        return collate(picks, rng.random(n) < 0.5)


@dataclass(frozen=True)
class Batch:
    """Pairs as tensors: ``inputs`` (N, 3 + 1 + groups, S, S) is what the generator
    reads; pictures in [-1, 1], masks in [0, 1]."""

    inputs: torch.Tensor
    warped: torch.Tensor
    real: torch.Tensor
    face: torch.Tensor
    heat: torch.Tensor

    def to(self, device: torch.device) -> Batch:
        return Batch(*(t.to(device, non_blocking=True) for t in
                       (self.inputs, self.warped, self.real, self.face, self.heat)))


def to_tensor(rgb: NDArray[np.uint8]) -> torch.Tensor:
    """(..., H, W, 3) uint8 to (..., 3, H, W) in [-1, 1]."""
    t = torch.from_numpy(np.ascontiguousarray(rgb)).float().div_(127.5).sub_(1.0)
    return t.movedim(-1, -3)


def network_inputs(warped: NDArray[np.uint8], valid: NDArray[np.float32],
                   heat: NDArray[np.uint8]) -> torch.Tensor:
    """(N, ...) crops, validities and maps stacked as the generator reads them."""
    return torch.cat([to_tensor(warped), torch.from_numpy(valid)[:, None],
                      torch.from_numpy(heat).float().div_(255.0)], 1)


def collate(pairs: Sequence[Pair], flips: Sequence[bool] | NDArray[np.bool_] = ()) -> Batch:
    """Stack ``pairs``; ``flips[i]`` mirrors pair i (every map is left-right symmetric)."""
    def stack(name: str) -> NDArray[Any]:
        arrays = [getattr(p, name) for p in pairs]
        return np.stack([a[..., ::-1] if name == "heat" and len(flips) and flips[i]
                         else a[:, ::-1] if len(flips) and flips[i] else a
                         for i, a in enumerate(arrays)])

    warped, valid, heat = stack("warped"), stack("valid"), stack("heat")
    return Batch(network_inputs(warped, valid, heat), to_tensor(warped),
                 to_tensor(stack("real")), torch.from_numpy(stack("face").copy())[:, None],
                 torch.from_numpy(heat.copy()).float().div_(255.0))
