"""A training-free temporal filter that stops per-frame translation from flickering.

Per-frame models (pix2pix, CycleGAN, fast neural style) see each frame alone, so
their output jumps under changes the viewer never notices (sensor noise, a pixel
of motion). The filter carries the previous *filtered* output along the motion of
the *input* video and blends it with the model's current output where the motion
is trustworthy::

    out = m * (a * warped_prev + (1 - a) * translated) + (1 - m) * translated

``m`` is a per-pixel reliability and ``a`` the blend strength. What it guards
against, and how:

- ghosting at occlusions and thin structures: flow both ways (current -> previous
  and back) on a small copy of the input; a hard mask from the forward-backward
  check (Ruder et al. 2016), widened a little, and a photometric check (the warped
  previous input must match the current input in every colour channel), so
  uncovered pixels and anything the flow missed take the current output only;
- drift and darkening from warping the same values again and again: every frame
  fuses toward the current output (a value carried k frames weighs at most a^k),
  and the output never differs from the current per-frame output by more than
  ``max_deviation`` levels per pixel, so it cannot wander off or hold a stale
  value;
- lag after a scene cut: a cut (a large motion-compensated change of the input, or
  a large share of flow failing the check) restarts the filter, and that frame is
  the per-frame output unchanged;
- cost: flow at most ``flow_side`` px on the long side (DIS FAST; ULTRAFAST is
  about 1.5-3 ms cheaper and a little less steady), scaled up; only the warp and
  the fusion run at the output's size, in OpenCV's uint8 kernels.

Speed (``benchmarks/translate_flicker.py``, median per frame, this repository's
2-core x86 machine while other jobs shared it, so an idle machine does better):
640x360 about 8-10 ms, of which DIS both ways about 3 ms; 1280x720 about 23 ms, of
which DIS is still about 3 ms (the flow does not grow with the frame), the rest
the full-size warp and blend.

Quality (same benchmark, 60 frames of 640x360 synthetic scenes, a flickering
random-weight conv net with colour jitter as the model; ``flicker`` has the
measures): warping error 0.19x (camera motion), 0.16x (subject motion) and 0.26x
(occlusion) of the per-frame output's, at 34.3-34.4 dB PSNR against it; over the
pixels each frame uncovers the filtered output is closer to the per-frame output
(37 dB) than elsewhere (34 dB): no ghosts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from streamgan.translate.flicker import DIS_MIN_SIDE, dense_flow

log = logging.getLogger(__name__)

Frame = NDArray[np.uint8]
"""An RGB picture, (H, W, 3) uint8."""

PRESETS = {
    "ultrafast": cv2.DISOpticalFlow_PRESET_ULTRAFAST,
    "fast": cv2.DISOpticalFlow_PRESET_FAST,
    "medium": cv2.DISOpticalFlow_PRESET_MEDIUM,
}
MIN_FLOW_SIDE = DIS_MIN_SIDE
"""The flow is never scaled below this on the short side (smaller sources are padded
for DIS); thin pictures keep their detail."""


@dataclass(frozen=True)
class TemporalSettings:
    """How hard to smooth, and how the filter defends itself. Levels are 8-bit."""

    strength: float = 0.6
    """``a``: the weight of the carried output where the motion is reliable; 0 turns
    the filter off, near 1 freezes (capped by ``max_deviation``)."""
    flow_side: int = 320
    """The flow is computed on the input scaled to at most this many px on its long
    side (never scaled up), then scaled to the output's size."""
    preset: str = "fast"
    """DIS preset: ``ultrafast``, ``fast`` or ``medium``."""
    occlusion_relative: float = 0.01
    occlusion_absolute: float = 0.5
    """Forward-backward check, at the flow's size: reliable where
    |w + w_back|^2 < relative * (|w|^2 + |w_back|^2) + absolute (px^2)."""
    dilate: int = 1
    """Widen the unreliable area by this many flow px (occlusion edges are where the
    check is least sure, and ghosts are most visible)."""
    photometric: float = 10.0
    """Warped previous input vs current input, in levels of the channel that differs
    most, at the flow's size: fully reliable below this, not at all above twice this
    (catches what the flow got wrong and the forward-backward check let through)."""
    max_deviation: int = 12
    """The output never differs from the current per-frame output by more than this
    many levels, per pixel and channel: bounds drift, ghosts and lag."""
    cut_residual: float = 24.0
    """A scene cut when the mean of that residual (the input's change after motion
    compensation) exceeds this many levels ..."""
    cut_invalid: float = 0.6
    """... or when more than this share of the flow fails the forward-backward check."""

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength < 1.0:
            raise ValueError(f"strength must be in [0, 1), got {self.strength}")
        if self.flow_side < MIN_FLOW_SIDE:
            raise ValueError(f"flow_side must be at least {MIN_FLOW_SIDE}, got {self.flow_side}")
        if self.preset not in PRESETS:
            raise ValueError(f"preset must be one of {sorted(PRESETS)}, got {self.preset!r}")
        if not 0 <= self.max_deviation <= 255:
            raise ValueError(f"max_deviation must be in [0, 255], got {self.max_deviation}")
        if self.photometric <= 0 or self.dilate < 0:
            raise ValueError("photometric must be positive and dilate not negative")


def flow_size(width: int, height: int, side: int) -> tuple[int, int]:
    """(w, h) of the flow: at most ``side`` on the long side, never below DIS's
    minimum on the short side, never larger than the picture."""
    scale = min(1.0, side / max(width, height))
    scale = max(scale, min(1.0, MIN_FLOW_SIDE / min(width, height)))
    return max(1, round(width * scale)), max(1, round(height * scale))


class TemporalFilter:
    """Makes one stream of per-frame translated frames temporally consistent.

    Call it once per frame, in order, with the frame the model saw and the model's
    output; make one per stream (it remembers the previous frame) and ``reset()`` it
    when the stream restarts. Sizes may change between calls (that restarts it).
    """

    def __init__(self, settings: TemporalSettings | None = None) -> None:
        self.settings = settings or TemporalSettings()
        self._dis = cv2.DISOpticalFlow.create(PRESETS[self.settings.preset])
        self._prev_gray: NDArray[np.uint8] | None = None
        self._prev_small: Frame | None = None
        self._prev_out: Frame | None = None
        self._key: tuple[tuple[int, ...], tuple[int, ...]] | None = None
        self._grid: tuple[NDArray[np.float32], NDArray[np.float32]] | None = None
        self.cuts = 0
        """Scene cuts detected since construction (reset() does not count)."""

    def reset(self) -> None:
        """Forget the previous frame: the next output is the per-frame output."""
        self._prev_gray = self._prev_small = None
        self._prev_out = None
        self._key = None

    def __call__(self, source: Frame, translated: Frame) -> Frame:
        """The filtered version of ``translated`` (what the model made of ``source``)."""
        _check(source, "source")
        _check(translated, "translated")
        s = self.settings
        translated = np.ascontiguousarray(translated)
        h, w = source.shape[:2]
        fw, fh = flow_size(w, h, s.flow_side)
        # Kept for the next frame: a copy, never the caller's buffer.
        small = (np.array(source, np.uint8) if (fw, fh) == (w, h) else
                 np.asarray(cv2.resize(np.ascontiguousarray(source), (fw, fh),
                                       interpolation=cv2.INTER_AREA), np.uint8))
        cur = np.asarray(cv2.cvtColor(small, cv2.COLOR_RGB2GRAY))
        key = (source.shape, translated.shape)
        prev_gray, prev_small, prev_out = self._prev_gray, self._prev_small, self._prev_out
        found = None
        if self._key == key and prev_gray is not None and prev_small is not None \
                and prev_out is not None and s.strength > 0:
            found = self._reliability(cur, small, prev_gray, prev_small)
            if found is None:
                self.cuts += 1
        self._prev_gray, self._prev_small, self._key = cur, small, key
        if prev_out is None or found is None:  # first frame, new size, or a cut
            self._prev_out = translated.copy()
            return translated.copy()
        out = self._fuse(prev_out, translated, *found)
        self._prev_out = out
        return out.copy()

    # -- steps ---------------------------------------------------------------------

    def _reliability(self, cur: NDArray[np.uint8], cur_rgb: Frame, prev: NDArray[np.uint8],
                     prev_rgb: Frame) -> tuple[NDArray[np.float32], NDArray[np.float32]] | None:
        """(sampling map into the previous frame, reliability m), both at the flow's
        size, from the grey and colour input at the flow's size; None at a cut."""
        s = self.settings
        back = dense_flow(self._dis, cur, prev)  # cur -> prev
        fwd = dense_flow(self._dis, prev, cur)  # prev -> cur
        fh, fw = cur.shape
        gx, gy = self._grid_for(fw, fh)
        maps = np.empty_like(back)
        np.add(back[..., 0], gx, out=maps[..., 0])
        np.add(back[..., 1], gy, out=maps[..., 1])
        fwd_there = cv2.remap(fwd, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        total = back + fwd_there
        err = cv2.magnitude(total[..., 0], total[..., 1]) ** 2
        norm = (cv2.magnitude(back[..., 0], back[..., 1]) ** 2
                + cv2.magnitude(fwd_there[..., 0], fwd_there[..., 1]) ** 2)
        valid = err < s.occlusion_relative * norm + s.occlusion_absolute
        mx, my = maps[..., 0], maps[..., 1]
        valid &= (mx >= 0) & (mx <= fw - 1) & (my >= 0) & (my <= fh - 1)
        invalid_share = 1.0 - float(np.count_nonzero(valid)) / valid.size
        # Colour, not luma: a ghost of one surface over another of similar brightness
        # is still a different colour.
        warped = cv2.remap(prev_rgb, maps, None, cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
        r, g, b = cv2.split(cv2.absdiff(cur_rgb, warped))
        residual = cv2.max(cv2.max(r, g), b)
        mean_residual = float(cv2.mean(residual)[0])
        if mean_residual > s.cut_residual or invalid_share > s.cut_invalid:
            log.debug("scene cut: residual %.1f levels, %.0f%% of the flow inconsistent",
                      mean_residual, 100 * invalid_share)
            return None
        m = valid.astype(np.float32)
        if s.dilate:
            size = 2 * s.dilate + 1
            m = cv2.erode(m, cv2.getStructuringElement(cv2.MORPH_RECT, (size, size)))
        photo = 2.0 - residual.astype(np.float32) * (1.0 / s.photometric)
        m *= np.clip(photo, 0.0, 1.0)
        return maps, m

    def _grid_for(self, width: int, height: int) -> tuple[NDArray[np.float32],
                                                           NDArray[np.float32]]:
        grid = self._grid
        if grid is None or grid[0].shape != (height, width):
            gx = np.broadcast_to(np.arange(width, dtype=np.float32)[None, :], (height, width))
            gy = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None], (height, width))
            grid = self._grid = (np.ascontiguousarray(gx), np.ascontiguousarray(gy))
        return grid

    def _fuse(self, prev_out: Frame, translated: Frame, maps: NDArray[np.float32],
              m: NDArray[np.float32]) -> Frame:
        """Warp the previous output to now and blend it in where ``m`` says so, never
        further than ``max_deviation`` from ``translated`` (all in OpenCV's uint8
        kernels: this runs at the output's full size)."""
        s = self.settings
        oh, ow = translated.shape[:2]
        fh, fw = m.shape
        if (fw, fh) != (ow, oh):
            sx, sy = ow / fw, oh / fh
            # Pixel centres: output x = (flow x + 0.5) * sx - 0.5, likewise y.
            scale = np.array([[sx, 0, 0.5 * sx - 0.5], [0, sy, 0.5 * sy - 0.5]], np.float32)
            maps = cv2.transform(cv2.resize(maps, (ow, oh), interpolation=cv2.INTER_LINEAR),
                                 scale)
            m = cv2.resize(m, (ow, oh), interpolation=cv2.INTER_LINEAR)
        warped = cv2.remap(prev_out, maps, None, cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
        k = m * np.float32(s.strength)
        blended = cv2.blendLinear(warped, translated, k, 1.0 - k)
        cap = int(s.max_deviation)
        low = cv2.subtract(translated, (cap, cap, cap, 0))
        high = cv2.add(translated, (cap, cap, cap, 0))
        return np.asarray(cv2.min(cv2.max(blended, low), high), np.uint8)


def _check(frame: Frame, name: str) -> None:
    if frame.dtype != np.uint8 or frame.ndim != 3 or frame.shape[2] != 3:
        raise ValueError(f"{name}: expected an RGB uint8 frame (H, W, 3), got "
                         f"{frame.dtype} {frame.shape}")
