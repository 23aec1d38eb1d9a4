"""How much a translated video flickers, and how far a fix strays from the model.

``warping_error`` is the short-term warping error of Lai et al. (ECCV 2018,
"Learning Blind Video Temporal Consistency"): optical flow is computed on the
*input* frames, so it says where each pixel came from independently of the output
under test; pixels the flow cannot vouch for (occluded, disoccluded, leaving the
frame, motion boundaries) are masked out by the forward-backward check of Ruder et
al. (2016); the error is the mean squared difference, RGB in [0, 1], between output
t and output t-1 warped to t, over the valid pixels, averaged over t. A perfectly
consistent output scores near 0 and per-frame flicker scores high.

Warping error alone rewards doing too much: on a shot without motion an output that
freezes its first frame scores 0, a constant output scores 0 anywhere, and anything smoothed
hard enough scores low. ``fidelity_psnr`` (PSNR of the filtered output against the
plain per-frame output) catches that, so the two figures are always read together.

The flow is OpenCV's DIS on grayscale at full resolution (preset MEDIUM: the
measure favours accuracy over speed; the filter in ``temporal`` uses its own,
cheaper flow, so it is not graded by the flow it was built on).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

Frame = NDArray[np.uint8]
"""An RGB picture, (H, W, 3) uint8."""
Flow = NDArray[np.float32]
"""(H, W, 2) pixel offsets: pixel (x, y) of one frame sits at (x, y) + flow in the other."""
Mask = NDArray[np.bool_]
"""(H, W) booleans."""

MEASURE_PRESET = cv2.DISOpticalFlow_PRESET_MEDIUM


def gray(frame: Frame) -> NDArray[np.uint8]:
    """Luma of an RGB frame, the only channel DIS reads."""
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(frame), cv2.COLOR_RGB2GRAY))


DIS_MIN_SIDE = 32
"""OpenCV 4.11's DIS fails below 12 px and crashes the process (no exception) on
pictures under 32 px on the short side that are 3.5 times as long as they are
high; pictures with both sides of at least 32 px were always fine."""


def dense_flow(dis: cv2.DISOpticalFlow, frame: NDArray[np.uint8],
               other: NDArray[np.uint8]) -> Flow:
    """Flow from ``frame`` to ``other`` (both grayscale, same size):
    frame(p) ~ other(p + flow(p)). Pictures smaller than ``DIS_MIN_SIDE`` are padded
    (edge pixels repeated) for DIS and the flow cropped back."""
    h, w = frame.shape[:2]
    pad_y, pad_x = max(0, DIS_MIN_SIDE - h), max(0, DIS_MIN_SIDE - w)
    if pad_x or pad_y:
        frame = cv2.copyMakeBorder(frame, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
        other = cv2.copyMakeBorder(other, 0, pad_y, 0, pad_x, cv2.BORDER_REPLICATE)
    flow = np.asarray(dis.calc(frame, other, None), np.float32)
    return flow[:h, :w] if pad_x or pad_y else flow


def sample_map(flow: Flow) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """cv2.remap maps that fetch, for every pixel p, the other frame at p + flow(p)."""
    h, w = flow.shape[:2]
    xs = np.arange(w, dtype=np.float32)[None, :] + flow[..., 0]
    ys = np.arange(h, dtype=np.float32)[:, None] + flow[..., 1]
    return xs, ys


def warp(image: NDArray[np.generic], flow: Flow) -> NDArray[np.generic]:
    """``image`` (the other frame) resampled onto this frame's pixels along ``flow``."""
    xs, ys = sample_map(flow)
    return np.asarray(cv2.remap(image, xs, ys, cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE))


def consistent(flow: Flow, back: Flow, *, relative: float = 0.01, absolute: float = 0.5,
               motion_boundaries: bool = True) -> Mask:
    """Pixels whose ``flow`` (this frame -> other) the flow the other way confirms.

    The test of Ruder et al. (2016) that Lai et al. evaluate with: valid where
    |w + w_back(p + w)|^2 < relative * (|w|^2 + |w_back(p + w)|^2) + absolute, the
    target p + w lies inside the other frame, and (``motion_boundaries``) the flow
    is not at a motion boundary, |grad u|^2 + |grad v|^2 <= 0.01 |w|^2 + 0.002.
    Occluded pixels have no true counterpart, so the two flows disagree there.
    """
    h, w = flow.shape[:2]
    xs, ys = sample_map(flow)
    back_here = np.asarray(cv2.remap(back, xs, ys, cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE), np.float32)
    total = flow + back_here
    mag = np.einsum("...i,...i->...", flow, flow)
    back_mag = np.einsum("...i,...i->...", back_here, back_here)
    valid = np.einsum("...i,...i->...", total, total) < relative * (mag + back_mag) + absolute
    valid &= (xs >= 0) & (xs <= w - 1) & (ys >= 0) & (ys <= h - 1)
    if motion_boundaries:
        grad = np.zeros((h, w), np.float32)
        for c in range(2):
            gy, gx = np.gradient(flow[..., c])
            grad += gx * gx + gy * gy
        valid &= grad <= 0.01 * mag + 0.002
    return np.asarray(valid, np.bool_)


@dataclass(frozen=True)
class WarpingError:
    """The measure over a clip, and its parts per frame pair (t-1, t), t = 1..T-1."""

    mean: float
    per_frame: tuple[float, ...]
    valid_fraction: tuple[float, ...]
    """Share of pixels the flow vouched for; a cut or fast motion leaves few."""


def _check_clip(frames: Sequence[Frame], name: str) -> None:
    for f in frames:
        if f.dtype != np.uint8 or f.ndim != 3 or f.shape[2] != 3:
            raise ValueError(f"{name}: expected RGB uint8 frames (H, W, 3), got "
                             f"{f.dtype} {f.shape}")


def input_flows(inputs: Sequence[Frame], preset: int = MEASURE_PRESET
                ) -> list[tuple[Flow, Mask]]:
    """Per t >= 1: the flow t -> t-1 on the input frames and where it is valid."""
    _check_clip(inputs, "inputs")
    dis = cv2.DISOpticalFlow.create(preset)
    grays = [gray(f) for f in inputs]
    out = []
    for t in range(1, len(grays)):
        back = dense_flow(dis, grays[t], grays[t - 1])
        fwd = dense_flow(dis, grays[t - 1], grays[t])
        out.append((back, consistent(back, fwd)))
    return out


def warping_errors(inputs: Sequence[Frame], outputs: Sequence[Frame],
                   flows: Sequence[tuple[Flow, Mask]] | None = None) -> WarpingError:
    """The warping error with its per-frame parts; pass ``flows`` (from
    ``input_flows``) to grade several outputs of the same inputs without redoing it."""
    if len(inputs) != len(outputs):
        raise ValueError(f"{len(inputs)} input frames but {len(outputs)} output frames")
    if len(inputs) < 2:
        raise ValueError("the warping error needs at least two frames")
    _check_clip(outputs, "outputs")
    if flows is None:
        flows = input_flows(inputs)
    per, fractions = [], []
    for t in range(1, len(outputs)):
        flow, valid = flows[t - 1]
        out, prev = outputs[t], outputs[t - 1]
        if out.shape != prev.shape:
            raise ValueError(f"output frame {t} is {out.shape}, frame {t - 1} {prev.shape}")
        if out.shape[:2] != flow.shape[:2]:
            flow, valid = _resized(flow, valid, out.shape[1], out.shape[0])
        warped = np.asarray(warp(np.ascontiguousarray(prev), flow), np.float32)
        diff = (out.astype(np.float32) - warped) / 255.0
        sq = np.einsum("...i,...i->...", diff, diff) / 3.0
        n = int(valid.sum())
        # Lai et al.: with no valid pixel at all, the mean runs over the whole frame.
        per.append(float(sq[valid].mean()) if n else float(sq.mean()))
        fractions.append(n / valid.size)
    return WarpingError(float(np.mean(per)), tuple(per), tuple(fractions))


def warping_error(inputs: Sequence[Frame], outputs: Sequence[Frame]) -> float:
    """Lai et al.'s short-term warping error of ``outputs`` given the ``inputs`` they
    were made from (lower is steadier; 0 for an output moving exactly with the scene)."""
    return warping_errors(inputs, outputs).mean


def _resized(flow: Flow, valid: Mask, width: int, height: int) -> tuple[Flow, Mask]:
    """Flow and mask of the inputs brought to the outputs' size (offsets scaled too)."""
    h, w = flow.shape[:2]
    big = np.asarray(cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR),
                     np.float32)
    big[..., 0] *= width / w
    big[..., 1] *= height / h
    mask = cv2.resize(valid.astype(np.uint8), (width, height),
                      interpolation=cv2.INTER_NEAREST)
    return big, np.asarray(mask > 0, np.bool_)


def psnr_of_mse(mse: float, peak: float = 255.0) -> float:
    """PSNR in dB of a mean squared error (inf when identical)."""
    return math.inf if mse <= 0 else 10.0 * math.log10(peak * peak / mse)


def fidelity_psnr(outputs: Sequence[Frame], reference: Sequence[Frame],
                  masks: Sequence[Mask] | None = None) -> float:
    """PSNR (dB) of ``outputs`` against ``reference`` (the plain per-frame output),
    from the squared error pooled over all frames (and, with ``masks``, only over
    the masked pixels, e.g. disoccluded ones; frames with an empty mask add nothing).

    Pooled rather than averaged per frame, so one identical frame (infinite PSNR)
    does not swamp the rest.
    """
    if len(outputs) != len(reference):
        raise ValueError(f"{len(outputs)} output frames but {len(reference)} reference frames")
    total, count = 0.0, 0
    for i, (out, ref) in enumerate(zip(outputs, reference, strict=True)):
        if out.shape != ref.shape:
            raise ValueError(f"frame {i}: output {out.shape} but reference {ref.shape}")
        diff = out.astype(np.float32) - ref.astype(np.float32)
        sq = np.einsum("...i,...i->...", diff, diff) / 3.0
        if masks is not None:
            sq = sq[masks[i]]
        total += float(sq.sum(dtype=np.float64))
        count += sq.size
    if count == 0:
        raise ValueError("no pixels to compare")
    return psnr_of_mse(total / count)
