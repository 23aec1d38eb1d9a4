"""Flicker of per-frame translation, with and without the temporal filter, in one run.

Synthetic scenes (``tests/translate/scenes.py``: procedural textures, known motion,
2 levels of sensor noise; no person): camera motion (pan and zoom), subject motion
(an object crossing a still background), occlusion (an object passing in front of
another, and a thin pole sweeping the other way), optionally a scene cut. Each is
run through a per-frame model (any ``Callable[[RGB], RGB]``; by default a stand-in
that flickers the way per-frame translation does), then through
:class:`streamgan.translate.temporal.TemporalFilter`.

Columns, per scene:

- ``warp err per-frame`` / ``filtered``: Lai et al. 2018's short-term warping error
  (``streamgan.translate.flicker``; flow on the input frames, DIS MEDIUM at full
  size, forward-backward occlusion mask; x 1e-4), and ``ratio`` filtered/per-frame
  (the goal: at most 0.5);
- ``fidelity``: PSNR of the filtered output against the per-frame output (the goal:
  at least 30 dB; a filter that freezes or over-smooths shows here);
- ``revealed`` / ``elsewhere``: the same PSNR over only the pixels each frame
  uncovers (the renderer knows them exactly) and over the others. A ghost (the
  old content dragged into the uncovered pixels) makes ``revealed`` much the lower;
  a filter that falls back to the model's output there makes it the higher;
- ``ms/frame``: the filter alone (median over the clip; this 2-core machine is
  shared, so p90 too).

Then the filter's speed at 640x360 and 1280x720 (what DIS takes of it), and a
contact sheet (``--sheet``): for a few frames of the occlusion and camera scenes,
the input, the per-frame output, the filtered output, and their difference
(amplified 4x, uncovered pixels tinted red), for a person to look for ghosts.

Run: ``python benchmarks/translate_flicker.py [--frames 60] [--size 640x360]
[--model convnet|posterise|identity|package.module:factory|model=toon] [--sheet
sheet.png]``.
A ``module:factory`` model is imported and ``factory()`` must return the per-frame
callable (RGB uint8 in, RGB uint8 out).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
from numpy.typing import NDArray

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from streamgan.translate import flicker  # noqa: E402
from streamgan.translate.temporal import (  # noqa: E402
    PRESETS,
    TemporalFilter,
    TemporalSettings,
    flow_size,
)
from tests.translate import scenes  # noqa: E402

Frame = NDArray[np.uint8]
Model = Callable[[Frame], Frame]


@dataclass(frozen=True)
class Row:
    scene: str
    per_frame: float
    filtered: float
    fidelity: float
    revealed: float
    elsewhere: float
    ms: float
    ms_p90: float
    cuts: int


@dataclass(frozen=True)
class Run:
    clip: scenes.Clip
    per_frame: list[Frame]
    filtered: list[Frame]
    row: Row


def evaluate(clip: scenes.Clip, model: Model, settings: TemporalSettings | None = None
             ) -> Run:
    """Per-frame ``model`` on ``clip``, then the filter; every figure of one row."""
    return evaluate_outputs(clip, [model(f) for f in clip.frames], settings)


def evaluate_outputs(clip: scenes.Clip, per_frame: list[Frame],
                     settings: TemporalSettings | None = None) -> Run:
    """The filter over given per-frame outputs of ``clip``, and the figures."""
    filt = TemporalFilter(settings)
    filtered, times = [], []
    for source, out in zip(clip.frames, per_frame, strict=True):
        start = time.perf_counter()
        filtered.append(filt(source, out))
        times.append(time.perf_counter() - start)
    flows = flicker.input_flows(clip.frames)
    before = flicker.warping_errors(clip.frames, per_frame, flows).mean
    after = flicker.warping_errors(clip.frames, filtered, flows).mean
    starts = {0, *clip.cuts}  # everything is new there: not a disocclusion
    revealed = [np.zeros_like(m) if t in starts else m for t, m in enumerate(clip.disoccluded)]
    rest = [np.zeros_like(m) if t in starts else ~m for t, m in enumerate(clip.disoccluded)]
    ms = np.array(times[1:]) * 1000  # the first frame only stores itself
    row = Row(clip.name, before, after, flicker.fidelity_psnr(filtered, per_frame),
              _psnr_or_nan(filtered, per_frame, revealed),
              _psnr_or_nan(filtered, per_frame, rest),
              float(np.median(ms)), float(np.percentile(ms, 90)), filt.cuts)
    return Run(clip, per_frame, filtered, row)


def _psnr_or_nan(a: Sequence[Frame], b: Sequence[Frame], masks: list[flicker.Mask]) -> float:
    return (flicker.fidelity_psnr(a, b, masks) if any(m.any() for m in masks)
            else float("nan"))


def load_model(name: str, seed: int, gain: float, jitter: float) -> Model:
    """A stand-in by name, ``package.module:factory`` (``factory()`` gives the model), or
    a translation model ``streamgan translate --model`` takes (``toon``, a checkpoint)."""
    if name.startswith("model="):
        from streamgan.translate.engine import Translator
        from streamgan.translate.registry import resolve_model

        translator = Translator(resolve_model(name.removeprefix("model=")))
        return lambda frame: translator([frame])[0]
    if ":" in name:
        module, attr = name.split(":", 1)
        factory = getattr(importlib.import_module(module), attr)
        model: Model = factory()
        return model
    if name == "convnet":
        return scenes.ColourJitter(scenes.RandomConvNet(seed, gain=gain), jitter, seed) \
            if jitter > 0 else scenes.RandomConvNet(seed, gain=gain)
    return scenes.flickering_model(name, seed, jitter)


def speed(settings: TemporalSettings, frames: int) -> list[tuple[str, float, float, float]]:
    """(size, median ms per frame, p90, of which DIS ms) for the filter alone."""
    rows = []
    for w, h in ((640, 360), (1280, 720)):
        clip = scenes.camera_motion(frames, h, w, seed=7)
        outs = [np.ascontiguousarray(f[:, ::-1]) for f in clip.frames]  # any picture
        filt = TemporalFilter(settings)
        times = []
        for source, out in zip(clip.frames, outs, strict=True):
            start = time.perf_counter()
            filt(source, out)
            times.append(time.perf_counter() - start)
        ms = np.array(times[1:]) * 1000
        dis = cv2.DISOpticalFlow.create(PRESETS[settings.preset])
        fw, fh = flow_size(w, h, settings.flow_side)
        small = [cv2.cvtColor(cv2.resize(f, (fw, fh), interpolation=cv2.INTER_AREA),
                              cv2.COLOR_RGB2GRAY) for f in clip.frames]
        dis_times = []
        for a, b in zip(small[1:], small[:-1], strict=True):
            start = time.perf_counter()
            dis.calc(a, b, None)
            dis.calc(b, a, None)
            dis_times.append(time.perf_counter() - start)
        rows.append((f"{w}x{h}", float(np.median(ms)), float(np.percentile(ms, 90)),
                     float(np.median(dis_times)) * 1000))
    return rows


# -- contact sheet ---------------------------------------------------------------------

def label(img: Frame, text: str) -> Frame:
    out = img.copy()
    cv2.putText(out, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 3, cv2.LINE_AA)
    cv2.putText(out, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


def sheet_rows(run: Run, picks: Sequence[int], width: int) -> list[Frame]:
    """One row per picked frame: input | per-frame | filtered | 4x |difference|."""
    rows = []
    for t in picks:
        diff = np.abs(run.filtered[t].astype(np.int16) - run.per_frame[t]).max(axis=2)
        amp = np.clip(diff * 4, 0, 255).astype(np.uint8)
        shown = np.repeat(amp[..., None], 3, axis=2)
        revealed = run.clip.disoccluded[t] if t else np.zeros_like(run.clip.disoccluded[t])
        shown[revealed, 0] = np.maximum(shown[revealed, 0], 110)  # uncovered: red tint
        cells = [label(run.clip.frames[t], f"{run.clip.name} t={t} input"),
                 label(run.per_frame[t], "per-frame"), label(run.filtered[t], "filtered"),
                 label(shown, f"|diff| x4 (max {int(diff.max())}), red: uncovered")]
        row = np.hstack(cells)
        scale = width / row.shape[1]
        rows.append(cv2.resize(row, (width, round(row.shape[0] * scale)),
                               interpolation=cv2.INTER_AREA))
    return rows


NAIVE = TemporalSettings(strength=0.8, max_deviation=255, occlusion_absolute=1e9,
                         photometric=1e9, dilate=0, cut_residual=255, cut_invalid=1.0)
"""The same warp-and-blend with every defence off: what a ghost looks like."""


def save_sheet(path: Path, runs: Sequence[Run], naive: Run | None, width: int) -> None:
    """Three frames of each run, then (if given) the middle frame of the naive run."""
    rows = []
    for run in runs:
        n = len(run.clip.frames)
        rows += sheet_rows(run, [n // 4, n // 2, (3 * n) // 4], width)
    if naive is not None:
        rows += sheet_rows(naive, [len(naive.clip.frames) // 2], width)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))


# -- main ------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    parser.add_argument("--size", default="640x360", help="WxH of the scenes")
    parser.add_argument("--scenes", default="camera,subject,occlusion",
                        help=f"comma-separated, of {','.join(scenes.SCENES)}")
    parser.add_argument("--model", default="convnet",
                        help="convnet, posterise, identity, package.module:factory, or "
                        "model=NAME for a streamgan translation model (model=toon)")
    parser.add_argument("--gain", type=float, default=3.0, help="convnet: its input gain")
    parser.add_argument("--jitter", type=float, default=6.0,
                        help="stand-ins: per-frame colour jitter, levels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--strength", type=float, help="filter: override the blend strength")
    parser.add_argument("--max-deviation", type=int, help="filter: override the cap")
    parser.add_argument("--preset", help="filter: DIS preset (ultrafast, fast, medium)")
    parser.add_argument("--speed-frames", type=int, default=40,
                        help="frames per size for the speed table (0: skip it)")
    parser.add_argument("--sheet", type=Path, help="write the contact sheet PNG here")
    parser.add_argument("--sheet-width", type=int, default=1800, help="its width in px")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    w, h = (int(v) for v in args.size.lower().split("x"))
    settings = TemporalSettings()
    overrides = {k: v for k, v in (("strength", args.strength),
                                   ("max_deviation", args.max_deviation),
                                   ("preset", args.preset)) if v is not None}
    settings = replace(settings, **overrides)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads); {args.frames} frames "
          f"of {w}x{h}; model {args.model}"
          + (f" (gain {args.gain}, jitter {args.jitter})" if ":" not in args.model else ""))
    print(f"filter: {settings}")
    runs = []
    for name in args.scenes.split(","):
        clip = scenes.SCENES[name](args.frames, h, w)
        model = load_model(args.model, args.seed, args.gain, args.jitter)
        runs.append(evaluate(clip, model, settings))
    print()
    print("| scene | warp err per-frame (1e-4) | filtered (1e-4) | ratio | fidelity dB "
          "| revealed dB | elsewhere dB | ms/frame (p90) | cuts |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for run in runs:
        r = run.row
        print(f"| {r.scene} | {r.per_frame * 1e4:.1f} | {r.filtered * 1e4:.1f} | "
              f"{r.filtered / r.per_frame:.2f} | {r.fidelity:.1f} | {r.revealed:.1f} | "
              f"{r.elsewhere:.1f} | {r.ms:.1f} ({r.ms_p90:.1f}) | {r.cuts} |")
    if args.speed_frames > 1:
        print()
        print(f"| size | filter ms/frame | p90 | of which DIS ({settings.preset}, both ways) |")
        print("| --- | --- | --- | --- |")
        for size, ms, p90, dis in speed(settings, args.speed_frames):
            print(f"| {size} | {ms:.1f} | {p90:.1f} | {dis:.1f} |")
    if args.sheet:
        order = sorted(runs, key=lambda r: r.clip.name != "occlusion")[:2]
        ghosted = None
        if order[0].clip.name == "occlusion":
            occ = order[0]
            ghosted = evaluate_outputs(replace(occ.clip, name="NAIVE occlusion"),
                                       occ.per_frame, NAIVE)
        save_sheet(args.sheet, order, ghosted, args.sheet_width)
        print(f"\ncontact sheet: {args.sheet} (rows: {', '.join(r.clip.name for r in order)}"
              + (", and the naive blend with no defences, to show a ghost)" if ghosted else ")"))

if __name__ == "__main__":
    main()
