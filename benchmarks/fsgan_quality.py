"""Quality of the ``fsgan`` engine against ``warp`` and controls, measured in one run.

**Self-reenactment on held-out frames** (the right answer is known): a personal model
is trained on the first part of a clip (``--use-first``, default 0.7) of the footage
that ``samples/make_fsgan_footage.py`` renders (teeth, lids and light a warp cannot
make); of the rest, the most photo-like frame is the still and the other frames drive
it. On the face region of every output (a 256 px crop around the real face):

- PSNR inside the real face's outline (what the model repaints), and PSNR, SSIM
  (scikit-image's, as a reviewer would compute them) and mean absolute error in
  levels on the whole head crop (hair, neck and background included, which the model
  leaves to the warp); PSNR inside the real mouth and inside the real eyes alone,
  where teeth and lids are;
- landmark error: FaceMesh on the output against FaceMesh on the real frame, mean
  distance over interocular distance;
- eye and mouth amplitude: the output's range of eye and mouth opening over the
  driver's (1.0 is right).

Controls: the still repeated (no motion: what doing nothing scores), the real frames
blurred (right motion, detail lost: PSNR forgives it more than SSIM does), the real
frames themselves (the ceiling of each figure, and the tracker's own noise).

**Cross-reenactment** (no right answer): the sample driver, another person, animates
the footage's still. Motion correlation with the driver (eye, mouth, yaw, pitch) and
shape identity: the Procrustes distance of the face's rigid points to the target's and
to the driver's (the output should keep the target's shape). Control: the driver.

Run: ``python benchmarks/fsgan_quality.py [--model MODEL.pt] [--steps 600]
[--footage DIR] [--card CARD]``. Without ``--model`` it renders the footage, grants it
a ``train`` consent with a throwaway key, and trains the personal model (minutes).
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from numpy.typing import NDArray
from scipy.spatial import procrustes
from skimage.metrics import structural_similarity

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from streamgan.engines.base import Drive, Engine, Target  # noqa: E402
from streamgan.engines.fsgan.data import Clip, read_clip  # noqa: E402
from streamgan.engines.fsgan.engine import FsganEngine, FsganSettings  # noqa: E402
from streamgan.engines.fsgan.evaluate import (  # noqa: E402
    HeldOut,
    face_crops,
    held_out,
    part_masks,
    psnr,
    region_psnr,
    render_self,
)
from streamgan.engines.warp.engine import WarpEngine, WarpSettings  # noqa: E402
from streamgan.media import read_image  # noqa: E402
from streamgan.media.yuv import yuv420_to_rgb  # noqa: E402
from streamgan.tracking import landmarks as L  # noqa: E402
from streamgan.tracking.facemesh import detect_still  # noqa: E402
from streamgan.tracking.landmarks import Landmarks  # noqa: E402
from streamgan.tracking.measures import CHANNELS, FaceMeasures, VideoMeasures  # noqa: E402
from streamgan.tracking.tracker import FaceTracker, TrackerSettings  # noqa: E402
from tests.conftest import SAMPLES, sample_script  # noqa: E402

log = logging.getLogger("fsgan_quality")

Frames = list[NDArray[np.uint8]]
SHAPE_POINTS = sorted(set(L.RIGID) | set(L.FACE_OVAL[:9]) | set(L.FACE_OVAL[-8:]))
"""Points that move little with expression: nose, eye corners, upper face outline."""


def track(frames: Iterable[NDArray[np.uint8]]) -> VideoMeasures:
    """Unsmoothed FaceMesh on every frame (the judge; the same for every row)."""
    rows, marks = [], []
    with FaceTracker(TrackerSettings(smoothing=None, max_faces=2)) as tracker:
        for i, frame in enumerate(frames):
            t = tracker.track(frame, i / 25)
            lm = t.landmarks if t.detected else None
            marks.append(lm)
            m = FaceMeasures.of(lm) if lm is not None else None
            rows.append([getattr(m, c) if m else np.nan for c in CHANNELS])
    return VideoMeasures(np.array(rows, np.float64), marks)


EYE_RINGS = ((L.RIGHT_EYE_CORNERS[0], *L.RIGHT_EYE_UPPER, L.RIGHT_EYE_CORNERS[1],
              *L.RIGHT_EYE_LOWER[::-1]),
             (L.LEFT_EYE_CORNERS[0], *L.LEFT_EYE_UPPER, L.LEFT_EYE_CORNERS[1],
              *L.LEFT_EYE_LOWER[::-1]))


@dataclass
class SelfRow:
    name: str
    face_psnr: float
    psnr: float
    ssim: float
    l1: float
    mouth_psnr: float
    eye_psnr: float
    nme: float
    eye_amp: float
    mouth_amp: float


def score_self(name: str, frames: Frames, clip: Clip, split: HeldOut,
               real: VideoMeasures) -> SelfRow:
    outs, reals = face_crops(frames, clip, split)
    ssim = float(np.mean([structural_similarity(o, r, channel_axis=2)
                          for o, r in zip(outs, reals, strict=True)]))
    judged = track(frames)
    errors = []
    for lm, ref in zip(judged.landmarks, real.landmarks, strict=True):
        if lm is not None and ref is not None:
            errors.append(float(np.linalg.norm(lm[:, :2] - ref[:, :2], axis=1).mean())
                          / L.interocular(ref))
    return SelfRow(
        name, region_psnr(outs, reals, part_masks(clip, split, (L.FACE_OVAL,))),
        psnr(outs, reals), ssim,
        float(np.abs(outs.astype(np.float64) - reals).mean()),
        region_psnr(outs, reals, part_masks(clip, split, (L.INNER_LIP_RING,))),
        region_psnr(outs, reals, part_masks(clip, split, EYE_RINGS)),
        float(np.mean(errors)) if errors else float("nan"),
        judged.amplitude("eye") / real.amplitude("eye"),
        judged.amplitude("mouth") / real.amplitude("mouth"))


def shape_distance(a: Landmarks, b: Landmarks) -> float:
    """Procrustes disparity of the expression-free points (0: the same shape)."""
    return float(procrustes(a[SHAPE_POINTS, :2], b[SHAPE_POINTS, :2])[2]) * 1000


@dataclass
class CrossRow:
    name: str
    follows: dict[str, float]
    to_target: float
    to_driver: float
    eye_amp: float
    mouth_amp: float


def read_driver(path: Path) -> tuple[Frames, list[Landmarks | None]]:
    """The driver's frames and their landmarks as ``reenact`` tracks them (smoothed)."""
    from streamgan.media import AudioPacket, VideoReader

    frames, marks = [], []
    with VideoReader(path, audio=False) as reader, FaceTracker(TrackerSettings()) as tracker:
        for item in reader:
            if isinstance(item, AudioPacket):
                continue
            t = tracker.track(item.image, item.time)
            frames.append(item.image)
            marks.append(t.landmarks if t.detected else None)
    return frames, marks


def render_cross(engine: Engine, target: NDArray[np.uint8], target_lm: Landmarks,
                 frames: Frames, marks: list[Landmarks | None]) -> Frames:
    engine.prepare(Target(target, target_lm))
    reference = next(m for m in marks if m is not None)
    return [yuv420_to_rgb(engine.render(Drive(f, m, reference if m is not None else None)))
            for f, m in zip(frames, marks, strict=True)]


def score_cross(name: str, frames: Frames, driver: VideoMeasures,
                target_lm: Landmarks) -> CrossRow:
    judged = track(frames)
    pairs = [(o, d) for o, d in zip(judged.landmarks, driver.landmarks, strict=True)
             if o is not None and d is not None]
    return CrossRow(name, {c: judged.follows(driver, c) for c in ("eye", "mouth", "yaw",
                                                                    "pitch")},
                    float(np.mean([shape_distance(o, target_lm) for o, _ in pairs])),
                    float(np.mean([shape_distance(o, d) for o, d in pairs])),
                    judged.amplitude("eye") / driver.amplitude("eye"),
                    judged.amplitude("mouth") / driver.amplitude("mouth"))


def train_model(footage: Path, out: Path, steps: int, use_first: float) -> Path:
    """Grant the footage a ``train`` consent with a throwaway key, train on it."""
    from streamgan.engines.fsgan.train import TrainSettings, train
    from streamgan.safety.consent import grant_file_consent
    from streamgan.safety.consent_keys import generate_keypair

    pair = generate_keypair(out / "benchmark-signer")
    video = footage / "person.mp4"
    grant_file_consent(video, pair.private, "the footage's made-up person", ("train",))
    train(TrainSettings(videos=video, out=out / "run", steps=steps, use_first=use_first,
                        device="cpu", trust=(pair.public,), name="fsgan_quality model"))
    return out / "run" / "model.pt"


def self_table(rows: list[SelfRow]) -> str:
    lines = ["| output | PSNR face | PSNR head | SSIM head | L1 head | PSNR mouth | PSNR eyes "
             "| landmark err. | eye amp. | mouth amp. |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r.name} | {r.face_psnr:.2f} | {r.psnr:.2f} | {r.ssim:.3f} | "
                     f"{r.l1:.2f} | "
                     f"{r.mouth_psnr:.2f} | {r.eye_psnr:.2f} | {r.nme:.3f} | "
                     f"{r.eye_amp:.2f} | {r.mouth_amp:.2f} |")
    return "\n".join(lines)


def cross_table(rows: list[CrossRow]) -> str:
    lines = ["| output | corr. eye | corr. mouth | corr. yaw | corr. pitch | "
             "shape to target | shape to driver | eye amp. | mouth amp. |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        f = r.follows
        lines.append(f"| {r.name} | {f['eye']:.2f} | {f['mouth']:.2f} | {f['yaw']:.2f} | "
                     f"{f['pitch']:.2f} | {r.to_target:.2f} | {r.to_driver:.2f} | "
                     f"{r.eye_amp:.2f} | {r.mouth_amp:.2f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a trained model (default: train one)")
    parser.add_argument("--footage", type=Path,
                        help="make_fsgan_footage.py's folder (default: render it)")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--use-first", type=float, default=0.7)
    parser.add_argument("--card", type=Path, help="write the tables into this card")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    torch.set_num_threads(2)
    work = Path(tempfile.mkdtemp(prefix="fsgan-quality-"))
    footage = args.footage
    if footage is None:
        footage = work / "footage"
        sample_script("make_fsgan_footage").generate(footage)
    trained = ""
    model_path = args.model
    if model_path is None:
        started = time.monotonic()
        model_path = train_model(footage, work, args.steps, args.use_first)
        trained = (f"trained here for {args.steps} steps in "
                   f"{(time.monotonic() - started) / 60:.1f} min, ")
    clip = read_clip(footage / "person.mp4")
    split = held_out(clip, args.use_first)
    log.info("held out: still frame %d, %d driving frames", split.still, len(split.driving))
    fsgan = FsganEngine(FsganSettings(model=model_path))
    real_frames = [clip.frames[i] for i in split.driving]
    real = track(real_frames)
    blurred = [cv2.GaussianBlur(f, (0, 0), 2.0) for f in real_frames]
    rows = [score_self("still repeated (control)", [clip.frames[split.still]] * len(real_frames),
                       clip, split, real),
            score_self("real, blurred 2 px (control)", blurred, clip, split, real),
            score_self("real frames (ceiling)", real_frames, clip, split, real),
            score_self("warp, its mouth copied from the driver (= the truth here)",
                       list(render_self(WarpEngine(), clip, split)), clip, split, real),
            score_self("warp, no mouth copy (fsgan's input)",
                       list(render_self(WarpEngine(WarpSettings(mouth_fill=False)), clip,
                                        split)), clip, split, real),
            score_self("fsgan", list(render_self(fsgan, clip, split)), clip, split, real)]

    target = read_image(footage / "person_still.png")
    target_lm = detect_still(target)[0]
    driver_frames, driver_marks = read_driver(SAMPLES / "driver.mp4")
    driver = track(driver_frames)
    cross = [score_cross("driver itself (control)", driver_frames, driver, target_lm)]
    for name, engine in (("warp", WarpEngine()), ("fsgan", fsgan)):
        cross.append(score_cross(name, render_cross(engine, target, target_lm, driver_frames,
                                                    driver_marks), driver, target_lm))
    machine = f"{platform.machine()}, {torch.get_num_threads()} threads, torch {torch.__version__}"
    text = "\n".join([
        f"Measured by `benchmarks/fsgan_quality.py` ({trained}{machine}).",
        "",
        f"Self-reenactment on {len(split.driving)} held-out frames (after the first "
        f"{args.use_first:.0%} of the footage; still: frame {split.still}):",
        "",
        self_table(rows),
        "",
        f"Cross-reenactment: the sample driver ({len(driver_frames)} frames, another "
        "person) animating the footage's still:",
        "",
        cross_table(cross),
    ])
    print(text)
    if args.card is not None:
        from streamgan.train.card import set_quality

        set_quality(args.card, text)


if __name__ == "__main__":
    main()
