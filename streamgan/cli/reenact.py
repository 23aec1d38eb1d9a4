"""``streamgan reenact DRIVER TARGET -o OUT``: argument parsing and the summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from streamgan.cli.args import add_encoding_options, add_trust_option, check_video_output, int_range
from streamgan.cli.progress import progress_bar
from streamgan.engines import available
from streamgan.pipeline.reenact import ReenactReport, ReenactSettings, reenact


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "reenact", parents=parents,
        help="animate the face in a still image with the motion of a driver video",
        description="The face in TARGET follows DRIVER's head pose, eyes and mouth, keeps "
        "its own identity and background; the driver's audio and timing are kept.",
    )
    p.add_argument("driver", type=Path, help="driver video (any format FFmpeg reads)")
    p.add_argument("target", type=Path, help="target still image with a face")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="output video (.mp4 or .mov), written atomically, watermarked and "
                   "signed with a C2PA manifest")
    p.add_argument("--engine", default="warp", choices=available(), help="default: warp")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"),
                   help="for learned engines; warp always runs on the CPU")
    p.add_argument("--model", type=Path, default=None,
                   help="the learned engine's model (--engine fsgan: a model.pt from "
                   "`streamgan train fsgan`)")
    p.add_argument("--batch", type=int_range(1, 256), default=None,
                   help="frames the learned engine draws together (default 8 on CUDA, 1 on "
                   "the CPU)")
    add_encoding_options(p)
    p.add_argument("--face-index", type=int_range(0), default=0,
                   help="which driver face when there are several: 0 the largest")
    p.add_argument("--target-face-index", type=int_range(0), default=0,
                   help="which face in the target image: 0 the largest")
    p.add_argument("--ref-frame", type=int_range(0), default=None,
                   help="driver frame with the neutral face (default: first with a face)")
    p.add_argument("--no-audio", action="store_true", help="drop the driver's audio")
    add_trust_option(p)
    p.set_defaults(run=run)


def _summary(report: ReenactReport) -> str:
    prepare = report.times.seconds.get("prepare", 0.0)
    return (f"wrote {report.output}: {report.frames} frames in {report.seconds:.1f} s "
            f"({report.fps:.1f} fps); frames without a face: {report.frames_without_face}"
            f"{report.lost()}; "
            f"prepare {prepare:.2f} s; per frame: {report.per_frame()}; "
            f"watermark {report.watermark}, consent record {report.consent_record}, C2PA-signed")


def run(args: argparse.Namespace) -> int:
    check_video_output(args.output, (args.driver, args.target))
    settings = ReenactSettings(
        engine=args.engine, device=args.device, model=args.model, batch=args.batch or 0,
        crf=args.crf, preset=args.preset,
        face_index=args.face_index, target_face_index=args.target_face_index,
        ref_frame=args.ref_frame, audio=not args.no_audio, trust=tuple(args.trust),
    )
    show = not args.quiet and sys.stderr.isatty()
    with progress_bar(show, "reenacting") as progress:
        report = reenact(args.driver, args.target, args.output, settings, progress)
    if not args.quiet:
        print(_summary(report), file=sys.stderr)
    return 0
