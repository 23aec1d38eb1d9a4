"""``streamgan generate -n N -o DIR``: synthetic clips from the video GAN."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from streamgan.cli.args import int_range
from streamgan.cli.progress import progress_bar


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "generate", parents=parents,
        help="synthetic video clips from a two-stream video GAN",
        description="Writes N clips (clip-000.mp4, ...) and preview.png into DIR, from the "
        "shipped moving-digits model or --model. Every clip is watermarked and signed with "
        "a C2PA manifest that labels it AI-generated.")
    p.add_argument("-n", "--count", type=int_range(1, 1000), default=4,
                   help="number of clips (default 4)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    p.add_argument("--model", type=Path, default=None, metavar="CKPT",
                   help="a checkpoint from `streamgan train vgan` (default: the shipped model)")
    p.add_argument("--seed", type=int_range(0), default=None,
                   help="random seed; the same seed and model give the same clips")
    p.add_argument("--from", dest="from_image", type=Path, default=None, metavar="IMAGE",
                   help="generate the future of this still (conditional models)")
    p.add_argument("--layers", action="store_true",
                   help="also write each clip's background, mask and foreground")
    p.add_argument("--size", type=int_range(64, 2048), default=256,
                   help="output width and height in pixels (default 256)")
    p.add_argument("--fps", type=int_range(1, 120), default=8, help="frame rate (default 8)")
    p.add_argument("--device", default="cpu", choices=("cpu", "cuda"), help="default cpu")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from streamgan.errors import InputError
    from streamgan.generate.sample import GenerateSettings, generate

    if args.size % 2:
        raise InputError(f"--size {args.size}: must be even")
    if args.from_image is not None and not args.from_image.is_file():
        raise InputError(f"{args.from_image}: no such image")
    settings = GenerateSettings(
        out=args.output, count=args.count, model=args.model, seed=args.seed,
        from_image=args.from_image, layers=args.layers, out_size=args.size, fps=args.fps,
        device=args.device)
    show = not args.quiet and sys.stderr.isatty()
    with progress_bar(show, "generating") as progress:
        report = generate(settings, progress)
    if not args.quiet:
        extra = f" and {len(report.layers)} layer files" if report.layers else ""
        print(f"wrote {len(report.clips)} clips{extra} and {report.preview} "
              f"(seed {report.seed}, model {report.model}); each watermarked and C2PA-signed",
              file=sys.stderr)
    return 0
