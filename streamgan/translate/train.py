"""``streamgan train translate``: pix2pix or CycleGAN, on one process or under torchrun.

The loop, processes, resuming and saving are the shared :mod:`streamgan.train`. Rank
0 writes ``last.pt`` (to resume), ``model.pt`` (the averaged generator in the format
``streamgan translate`` loads), a preview of fixed examples and the model card.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import streamgan
from streamgan.media.atomic import atomic_output
from streamgan.media.image import write_image
from streamgan.train import card, checkpoint
from streamgan.train.distributed import World, distributed, pick_device
from streamgan.train.loop import Elapsed, LoopSettings, Progress, fit, prepare_out, set_threads
from streamgan.translate import formats
from streamgan.translate.data import PairedSet, UnpairedSet, to_uint8
from streamgan.translate.models import create_model
from streamgan.translate.models.base import TranslationModel
from streamgan.translate.options import ModelOptions

log = logging.getLogger(__name__)

TRAIN_FORMAT = "streamgan-translate-train"
TRAIN_VERSION = 1


@dataclass(frozen=True)
class TrainSettings:
    """What ``streamgan train translate`` can be told."""

    out: Path
    paired: Path | None = None
    """pix2pix data: DIR/A and DIR/B, or side-by-side AB images."""
    unpaired: tuple[Path, Path] | None = None
    """CycleGAN data: two folders."""
    options: ModelOptions = ModelOptions()
    steps: int = 2000
    batch: int = 4
    seed: int = 0
    device: str = "auto"
    save_every: int = 500
    threads: int | None = None
    reverse: bool = False
    """Paired data: learn B to A instead."""
    work_side: int | None = None
    """The long side ``translate`` runs the model at by default (stored in model.pt)."""
    name: str = "streamgan translation model"

    def loop(self) -> LoopSettings:
        return LoopSettings(out=self.out, steps=self.steps, seed=self.seed,
                            save_every=self.save_every, threads=self.threads)


def train(settings: TrainSettings, progress: Progress | None = None) -> TranslationModel:
    """Train (or resume) a translation model as ``settings`` say."""
    with distributed(settings.device) as world:
        return _train(settings, world, progress)


def _train(settings: TrainSettings, world: World,
           progress: Progress | None) -> TranslationModel:
    device = pick_device(settings.device, world)
    set_threads(settings.threads)
    prepare_out(settings.out, world)
    o = settings.options
    data: PairedSet | UnpairedSet
    if o.model == "pix2pix":
        if settings.paired is None:
            raise ValueError("pix2pix trains on --paired data")
        data = PairedSet(settings.paired, o.size, settings.reverse)
    else:
        if settings.unpaired is None:
            raise ValueError("cyclegan trains on --unpaired data")
        data = UnpairedSet(*settings.unpaired, o.size)
    model = create_model(o, device, train=True, total_steps=settings.steps)
    examples = data.batch(np.random.default_rng(12345), 4)[0]
    last = settings.out / "last.pt"

    def check(saved: dict[str, Any]) -> str | None:
        if saved.get("format") != TRAIN_FORMAT:
            return f"{last}: not a streamgan translation training checkpoint"
        if ModelOptions.from_dict(saved.get("options", {})) != o:
            return (f"{last}: saved with other model settings; use another output folder "
                    "or the same settings")
        return None

    def save(elapsed: Elapsed, losses: dict[str, float]) -> None:
        save_run(model, settings, data, world, device, elapsed, losses, examples)

    fit(model, settings.loop(), world, device, lambda rng: data.batch(rng, settings.batch),
        save, check, progress)
    return model


def save_run(model: TranslationModel, settings: TrainSettings, data: PairedSet | UnpairedSet,
             world: World, device: torch.device, elapsed: Elapsed, losses: dict[str, float],
             examples: torch.Tensor) -> None:
    out = settings.out
    checkpoint.save({**model.state(training=True),
                     "extra": {"seconds": elapsed.total_seconds}},
                    out / "last.pt", TRAIN_FORMAT, TRAIN_VERSION)
    extra = {"name": settings.name, "model": model.name, "trained_steps": model.step,
             "options": model.options.to_dict()}
    if settings.work_side:
        extra["work_side"] = settings.work_side
    with atomic_output(out / "model.pt") as temp:
        torch.save(formats.to_checkpoint(model.spec, model.ema, extra), temp)
    outputs = to_uint8(model.translate(examples))
    inputs = to_uint8(examples)
    write_image(out / "preview.png", np.concatenate(
        [np.concatenate(list(inputs), 1), np.concatenate(list(outputs), 1)], 0))
    facts = {
        "data": str(settings.paired or " and ".join(map(str, settings.unpaired or ()))),
        "pictures": len(data), "steps": model.step, "batch": settings.batch,
        "processes": world.size, "device": card.machine(device),
        "seconds": elapsed.total_seconds, "losses": losses,
    }
    card.write_card(out / "card.md", lambda quality: render_card(settings, model, facts,
                                                                 quality))


def render_card(settings: TrainSettings, model: TranslationModel, facts: dict[str, Any],
                quality: str) -> str:
    o = model.options
    paper = {"pix2pix": "pix2pix (Isola et al., \"Image-to-Image Translation with "
                        "Conditional Adversarial Networks\", CVPR 2017)",
             "cyclegan": "CycleGAN (Zhu et al., \"Unpaired Image-to-Image Translation "
                         "using Cycle-Consistent Adversarial Networks\", ICCV 2017)"}[o.model]
    params = sum(p.numel() for p in model.ema.parameters())
    lines = [
        f"# {settings.name}",
        "",
        f"A {paper} model with the `{o.generator}` generator ({params / 1e6:.2f}M "
        f"parameters), trained by streamgan {streamgan.__version__} with `streamgan train "
        "translate`. Every video `streamgan translate` writes with it is watermarked and "
        "C2PA-signed as an edit of its input.",
        "",
        "## Data",
        f"- Source: `{facts['data']}`",
        f"- Pictures: {facts['pictures']}, random {o.size}x{o.size} crops, flipped",
        "",
        *card.training_and_quality(facts, o.to_dict(), quality),
    ]
    return "\n".join(lines)
