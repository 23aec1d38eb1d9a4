"""Training the video GAN on one process, several GPUs, or several machines.

The loop, processes, resuming and saving are the shared :mod:`streamgan.train`; this
module says what the video GAN's data, checkpoints, preview and card are. Under
``torchrun`` every process trains a replica on its own random clips and rank 0 alone
writes checkpoints, previews and the model card. A run resumes from ``OUT/last.pt``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from streamgan.generate import checkpoint
from streamgan.generate.card import TrainingFacts, write_card
from streamgan.generate.clips import ClipSet, to_uint8
from streamgan.generate.model import OptimOptions, VideoGan
from streamgan.generate.options import PRESETS, VganOptions
from streamgan.generate.preview import clip_grid
from streamgan.media.image import write_image
from streamgan.train.card import machine
from streamgan.train.distributed import World, distributed, pick_device
from streamgan.train.loop import Elapsed, LoopSettings, Progress, fit, prepare_out, set_threads

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSettings:
    """What ``streamgan train vgan`` can be told."""

    videos: Path
    out: Path
    options: VganOptions = PRESETS["digits"]
    optim: OptimOptions = OptimOptions()
    steps: int = 10000
    """Total optimisation steps (a resumed run continues up to this)."""
    batch: int = 32
    """Clips per step on each process."""
    frame_step: int = 1
    """Take every n-th frame of the videos (a lower frame rate, more motion)."""
    seed: int = 0
    device: str = "auto"
    save_every: int = 500
    threads: int | None = None
    """CPU threads per process; None: the cores shared among local processes."""
    name: str = "streamgan video GAN"

    def loop(self) -> LoopSettings:
        return LoopSettings(out=self.out, steps=self.steps, seed=self.seed,
                            save_every=self.save_every, threads=self.threads)


def train(settings: TrainSettings, progress: Progress | None = None) -> VideoGan:
    """Train (or resume) a video GAN as ``settings`` say; returns the trained model."""
    with distributed(settings.device) as world:
        return _train(settings, world, progress)


def _train(settings: TrainSettings, world: World, progress: Progress | None) -> VideoGan:
    device = pick_device(settings.device, world)
    set_threads(settings.threads)
    prepare_out(settings.out, world)
    o = settings.options
    data = ClipSet(settings.videos, o.size, o.frames, settings.frame_step)
    model = VideoGan(o, settings.optim, device=device)

    def check(saved: dict[str, Any]) -> str | None:
        if saved.get("format") != checkpoint.FORMAT:
            return f"{settings.out / 'last.pt'}: not a streamgan video GAN checkpoint"
        if VganOptions.from_dict(saved.get("options", {})) != o:
            return (f"{settings.out / 'last.pt'}: saved with other network settings; use "
                    "another output folder or the same settings")
        return None

    def save(elapsed: Elapsed, losses: dict[str, float]) -> None:
        _save(model, settings, data, world, device, elapsed, losses)

    fit(model, settings.loop(), world, device, lambda rng: data.batch(rng, settings.batch),
        save, check, progress)
    return model


def _save(model: VideoGan, settings: TrainSettings, data: ClipSet, world: World,
          device: torch.device, elapsed: Elapsed, losses: dict[str, float]) -> None:
    out = settings.out
    checkpoint.save(model, out / "last.pt", training=True,
                    extra={"seconds": elapsed.total_seconds})
    checkpoint.save(model, out / "model.pt", training=False,
                    extra={"name": settings.name, "trained_steps": model.step})
    z = torch.randn(8, model.options.z_dim, generator=torch.Generator().manual_seed(0))
    if model.options.conditional:
        firsts = data.batch(np.random.default_rng(0), 8)[:, :, 0]
        z = model.encode(firsts)
    write_image(out / "preview.png", clip_grid(to_uint8(model.sample(z).video)))
    facts = TrainingFacts(
        name=settings.name, videos=str(settings.videos),
        data={"videos": len(data.videos), "frames": data.total_frames,
              "clip windows": int(data.starts.sum()), "frame step": settings.frame_step},
        options=model.options.to_dict(), optim=asdict(settings.optim), steps=model.step,
        batch=settings.batch, processes=world.size, device=machine(device),
        seconds=elapsed.total_seconds, losses=losses)
    write_card(out / "card.md", facts)
