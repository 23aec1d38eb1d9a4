"""``streamgan translate IN -o OUT --model MODEL``: argument parsing and the summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from streamgan.cli.args import add_encoding_options, check_video_output, int_range
from streamgan.cli.progress import progress_bar


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "translate", parents=parents,
        help="translate every frame of a video with an image-to-image model",
        description="Runs a pix2pix, CycleGAN or fast-neural-style generator (a shipped "
        "model, one streamgan trained, or a public checkpoint file) on every frame, with "
        "temporal smoothing against flicker. The output keeps the input's timing and "
        "audio, is watermarked in every frame and C2PA-signed as an edit of the input.")
    p.add_argument("input", type=Path, help="input video (any format FFmpeg reads)")
    p.add_argument("-o", "--output", type=Path, required=True,
                   help="output video (.mp4 or .mov), written atomically")
    p.add_argument("--model", default=None, metavar="MODEL",
                   help="a shipped model's name (default: toon) or a checkpoint: "
                   "streamgan's, pytorch-CycleGAN-and-pix2pix's (*_net_G*.pth) or "
                   "fast-neural-style's (*.pth)")
    temporal = p.add_mutually_exclusive_group()
    temporal.add_argument("--temporal", dest="temporal", action="store_true", default=True,
                          help="smooth flicker with optical flow (default)")
    temporal.add_argument("--no-temporal", dest="temporal", action="store_false",
                          help="plain per-frame output")
    p.add_argument("--region", choices=("all", "person", "face"), default="all",
                   help="translate the whole frame (default), only the person, or the face")
    p.add_argument("--size", type=int_range(16, 8192), default=None,
                   help="long side the network sees (default: the model's working size, "
                   "else the frame's)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="default cpu")
    p.add_argument("--batch", type=int_range(1, 256), default=None,
                   help="frames per forward pass (default 8 on CUDA, 1 on the CPU)")
    add_encoding_options(p)
    p.add_argument("--no-audio", action="store_true", help="drop the input's audio")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from streamgan.pipeline.translate import TranslateSettings, translate

    inputs: tuple[Path, ...] = (args.input,)
    if args.model is not None and Path(args.model).exists():
        inputs += (Path(args.model),)
    check_video_output(args.output, inputs)
    settings = TranslateSettings(
        model=args.model, temporal=args.temporal, region=args.region, size=args.size,
        device=args.device, batch=args.batch or 0, crf=args.crf, preset=args.preset,
        audio=not args.no_audio)
    show = not args.quiet and sys.stderr.isatty()
    with progress_bar(show, "translating") as progress:
        report = translate(args.input, args.output, settings, progress)
    if not args.quiet:
        print(f"wrote {report.output}: {report.frames} frames in {report.seconds:.1f} s "
              f"({report.fps:.1f} fps) with model {report.model}{report.lost()}; per frame: "
              f"{report.per_frame()}; watermark {report.watermark}, C2PA-signed as an edit "
              f"of {args.input.name}",
              file=sys.stderr)
        for warning in report.warnings:
            print(f"streamgan: warning: {warning}", file=sys.stderr)
    return 0
