"""``streamgan train vgan --videos DIR -o OUT``: train the two-stream video GAN.

Run it under ``torchrun --nproc_per_node N -m streamgan train vgan ...`` for several
GPUs (or CPU processes) and machines; a second run with the same ``-o`` resumes.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streamgan.cli.args import add_trust_option, int_range
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
    _add_translate(models, parents)
    _add_fsgan(models, parents)


def _add_fsgan(models: Any, parents: list[argparse.ArgumentParser]) -> None:
    from streamgan.engines.fsgan.options import PRESETS as FSGAN_PRESETS

    f = models.add_parser(
        "fsgan", parents=parents, help="a personal face model for `reenact --engine fsgan`",
        description="Trains the fsgan refiner by self-reenactment on footage of a person "
        "(30 s to 5 min of video): the warp moves one frame to another's landmarks and "
        "the model learns the real frame. Every video needs a `train` consent tag "
        "(`streamgan consent grant VIDEO --scope train`). Writes last.pt (resumable), "
        "model.pt (for `reenact --engine fsgan --model`), preview.png and card.md to -o. "
        "Use torchrun for several processes (each reads and renders its share of the "
        "videos).")
    f.add_argument("--videos", type=Path, required=True,
                   help="a video, or a folder of videos, of the person")
    f.add_argument("-o", "--output", type=Path, required=True, help="run folder")
    f.add_argument("--preset", choices=sorted(FSGAN_PRESETS), default="cpu",
                   help="network size: cpu (128 px crops, minutes on a CPU; default), "
                   "gpu (256 px, larger), tiny (tests)")
    f.add_argument("--size", type=int_range(32), help="crop side in pixels")
    f.add_argument("--width", type=int_range(4), help="generator width")
    f.add_argument("--gan-weight", type=float, help="adversarial loss weight (0: off)")
    f.add_argument("--steps", type=int_range(1), default=600, help="total steps (600)")
    f.add_argument("--batch", type=int_range(1), default=8, help="crops per step and process")
    f.add_argument("--lr", type=float, help="Adam learning rate")
    f.add_argument("--use-first", type=float, default=1.0, metavar="F",
                   help="train on the first F (0-1] of each video, holding out the rest")
    f.add_argument("--frame-step", type=int_range(1), default=1,
                   help="use every n-th video frame")
    f.add_argument("--pairs-per-video", type=int_range(1), default=None, metavar="N",
                   help="driving frames drawn from each video (default: every frame with "
                   "a face; cap it for a corpus of long videos)")
    f.add_argument("--save-every", type=int_range(1), default=200, help="steps per save")
    f.add_argument("--seed", type=int, default=0)
    f.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    f.add_argument("--threads", type=int_range(1), help="CPU threads per process")
    add_trust_option(f)
    f.add_argument("--name", default="streamgan fsgan model", help="title of the model card")
    f.set_defaults(run=run_fsgan)


def run_fsgan(args: argparse.Namespace) -> int:
    from streamgan.engines.fsgan.options import PRESETS as FSGAN_PRESETS
    from streamgan.engines.fsgan.train import TrainSettings, train
    from streamgan.errors import InputError

    changes = {k: v for k, v in (("size", args.size), ("width", args.width),
                                 ("lambda_gan", args.gan_weight), ("lr", args.lr))
               if v is not None}
    if not 0 < args.use_first <= 1:
        raise InputError(f"--use-first must be in (0, 1], not {args.use_first}")
    try:
        options = FSGAN_PRESETS[args.preset].but(**changes)
    except ValueError as e:
        raise InputError(str(e)) from e
    settings = TrainSettings(
        videos=args.videos, out=args.output, options=options, steps=args.steps,
        batch=args.batch, seed=args.seed, device=args.device, save_every=args.save_every,
        threads=args.threads, frame_step=args.frame_step, use_first=args.use_first,
        pairs_per_video=args.pairs_per_video, trust=tuple(args.trust), name=args.name)
    return _train(args, lambda progress: train(settings, progress).step)


def _add_translate(models: Any, parents: list[argparse.ArgumentParser]) -> None:
    from streamgan.translate.options import GENERATORS

    t = models.add_parser(
        "translate", parents=parents, help="a pix2pix or CycleGAN model for `translate`",
        description="Trains pix2pix on --paired data (DIR/A and DIR/B with files of the "
        "same names, or side-by-side AB images; images or videos) or CycleGAN on "
        "--unpaired DIR_A DIR_B. Writes last.pt (resumable), model.pt (for `streamgan "
        "translate --model`), preview.png and card.md to -o; an existing -o/last.pt is "
        "resumed. Use torchrun for several processes.")
    data = t.add_mutually_exclusive_group(required=True)
    data.add_argument("--paired", type=Path, metavar="DIR", help="pix2pix training data")
    data.add_argument("--unpaired", type=Path, nargs=2, metavar=("DIR_A", "DIR_B"),
                      help="CycleGAN training data")
    t.add_argument("-o", "--output", type=Path, required=True, help="run folder")
    t.add_argument("--generator", choices=GENERATORS, default="fast",
                   help="fast (live on a CPU, default), resnet_9blocks/resnet_6blocks "
                   "(CycleGAN's), unet_256/unet_128 (pix2pix's)")
    t.add_argument("--size", type=int_range(16), default=256, help="training crop side")
    t.add_argument("--width", type=int_range(4), default=16, help="fast generator width")
    t.add_argument("--ngf", type=int_range(4), default=64,
                   help="resnet/unet generator width (64)")
    t.add_argument("--ndf", type=int_range(4), default=64,
                   help="PatchGAN discriminator width (64)")
    t.add_argument("--temporal-loss", type=float, default=0.0, metavar="W",
                   help="weight of the stability loss against flicker (default 0: off)")
    t.add_argument("--lambda-l1", type=float, default=100.0, help="pix2pix L1 weight")
    t.add_argument("--reverse", action="store_true", help="paired: learn B to A")
    t.add_argument("--steps", type=int_range(1), default=2000, help="total steps")
    t.add_argument("--batch", type=int_range(1), default=4, help="pictures per step and "
                   "process")
    t.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate (2e-4)")
    t.add_argument("--save-every", type=int_range(1), default=500, help="steps per save")
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--device", default="auto", help="auto, cpu or cuda (default auto)")
    t.add_argument("--threads", type=int_range(1), help="CPU threads per process")
    t.add_argument("--work-side", type=int_range(16), default=None,
                   help="record in model.pt the long side `translate` should run it at")
    t.add_argument("--name", default="streamgan translation model",
                   help="title of the model card")
    t.set_defaults(run=run_translate)


def run_translate(args: argparse.Namespace) -> int:
    from streamgan.errors import InputError
    from streamgan.translate.options import ModelOptions
    from streamgan.translate.train import TrainSettings, train

    try:
        options = ModelOptions(
            model="pix2pix" if args.paired is not None else "cyclegan",
            generator=args.generator, size=args.size, fast_width=args.width, ngf=args.ngf,
            ndf=args.ndf,
            lambda_temporal=args.temporal_loss, lambda_l1=args.lambda_l1, lr=args.lr)
    except ValueError as e:
        raise InputError(str(e)) from e
    settings = TrainSettings(
        out=args.output, paired=args.paired,
        unpaired=tuple(args.unpaired) if args.unpaired else None, options=options,
        steps=args.steps, batch=args.batch, seed=args.seed, device=args.device,
        save_every=args.save_every, threads=args.threads, reverse=args.reverse,
        work_side=args.work_side, name=args.name)
    return _train(args, lambda progress: train(settings, progress).step)


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
    return _train(args, lambda progress: train(settings, progress).step)


def _train(args: argparse.Namespace,
           train: Callable[[Callable[[int, int, dict[str, float]], None]], int]) -> int:
    """Run ``train`` with a progress bar; rank 0 alone reports (torchrun)."""
    show = not args.quiet and sys.stderr.isatty()
    with progress_bar(show, "training") as bar:
        def progress(step: int, total: int, losses: dict[str, float]) -> None:
            if bar is not None:
                bar(step, total)

        steps = train(progress)
    if not args.quiet and os.environ.get("RANK", "0") == "0":
        print(f"trained to step {steps}: {args.output / 'model.pt'}", file=sys.stderr)
    return 0
