"""``streamgan train vgan --videos DIR -o OUT``: train the two-stream video GAN.

Run it under ``torchrun --nproc_per_node N -m streamgan train vgan ...`` for several
GPUs (or CPU processes) and machines; a second run with the same ``-o`` resumes.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any

from streamgan.cli.args import int_range
from streamgan.cli.progress import progress_bar
from streamgan.generate.options import PRESETS

log = logging.getLogger(__name__)


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser("train", parents=parents, help="train a model streamgan ships",
                            description="Train one of streamgan's generative models.")
    models = p.add_subparsers(dest="model", metavar="MODEL", required=True)
    v = models.add_parser(
        "vgan", parents=parents, help="the two-stream video GAN behind `streamgan generate`",
        description="Cuts clips from every video under --videos and trains a two-stream "
        "video GAN (Vondrick et al. 2016); checkpoints, a preview and a model card go to "
        "-o, and an existing -o/last.pt is resumed. Use torchrun for several processes.")
    v.add_argument("--videos", type=Path, required=True, help="folder of training videos")
    v.add_argument("-o", "--output", type=Path, required=True,
                   help="folder for last.pt (resumable), model.pt (sampling), card.md")
    v.add_argument("--preset", choices=sorted(PRESETS), default="digits",
                   help="network size: paper (64x64, 32 frames), digits (the shipped "
                   "model: 32x32, 16 frames), tiny")
    v.add_argument("--size", type=int_range(8), help="frame size (power of two)")
    v.add_argument("--frames", type=int_range(2), help="frames per clip (power of two)")
    v.add_argument("--width", type=int_range(1), help="channels of the finest layer")
    v.add_argument("--z-dim", type=int_range(1), help="latent size")
    v.add_argument("--conditional", action="store_true",
                   help="learn to generate the future of a still (for generate --from)")
    v.add_argument("--steps", type=int_range(1), default=10000, help="total steps")
    v.add_argument("--batch", type=int_range(1), default=32, help="clips per step and process")
    v.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate (2e-4)")
    v.add_argument("--frame-step", type=int_range(1), default=1,
                   help="use every n-th video frame")
    v.add_argument("--save-every", type=int_range(1), default=500, help="steps per save")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    v.add_argument("--threads", type=int_range(1), help="CPU threads per process "
                   "(default: the cores, shared among local processes)")
    v.add_argument("--name", default="streamgan video GAN", help="title of the model card")
    v.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from streamgan.generate.model import OptimOptions
    from streamgan.generate.train import TrainSettings, train

    changes = {k: getattr(args, k) for k in ("size", "frames", "width", "z_dim")
               if getattr(args, k) is not None}
    if args.conditional:
        changes["conditional"] = True
    try:
        options = PRESETS[args.preset].but(**changes)
    except ValueError as e:
        from streamgan.errors import InputError
        raise InputError(str(e)) from e
    settings = TrainSettings(
        videos=args.videos, out=args.output, options=options,
        optim=OptimOptions(lr=args.lr), steps=args.steps, batch=args.batch,
        frame_step=args.frame_step, seed=args.seed, device=args.device,
        save_every=args.save_every, threads=args.threads, name=args.name)
    show = not args.quiet and sys.stderr.isatty()
    with progress_bar(show, "training") as bar:
        def progress(step: int, total: int, losses: dict[str, float]) -> None:
            if bar is not None:
                bar(step, total)

        model = train(settings, progress)
    if not args.quiet and os.environ.get("RANK", "0") == "0":  # torchrun: one report
        print(f"trained to step {model.step}: {args.output / 'model.pt'}", file=sys.stderr)
    return 0
