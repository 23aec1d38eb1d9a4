"""Training the video GAN on one process, several GPUs, or several machines.

Launched plainly it trains on one device; launched by ``torchrun`` (which sets
``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``) every process trains a replica under
DistributedDataParallel (NCCL on GPUs, gloo on CPUs) on its own random clips, and
rank 0 alone writes checkpoints, previews and the model card. A run resumes from
``OUT/last.pt`` when it exists.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.nn.parallel import DistributedDataParallel

from streamgan.errors import InputError, OutputError
from streamgan.generate import checkpoint
from streamgan.generate.card import TrainingFacts, machine, write_card
from streamgan.generate.clips import ClipSet, to_uint8
from streamgan.generate.model import OptimOptions, VideoGan
from streamgan.generate.options import PRESETS, VganOptions
from streamgan.generate.preview import clip_grid
from streamgan.media.image import write_image

log = logging.getLogger(__name__)

Progress = Callable[[int, int, dict[str, float]], None]
"""Called on rank 0 with (step, total steps, last losses)."""


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
    """CPU threads per process; None: the machine's cores shared among local processes
    (streamgan's default of one BLAS thread suits tracking, not training)."""
    name: str = "streamgan video GAN"


@dataclass(frozen=True)
class World:
    """This process's place in a distributed run (rank 0 of 1 when alone)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def leader(self) -> bool:
        return self.rank == 0


def pick_device(name: str, world: World) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError("--device cuda: no CUDA device here")
        return torch.device("cuda", world.local_rank if name == "cuda" else
                            torch.device(name).index or 0)
    if name != "cpu":
        raise InputError(f"unknown device {name!r} (cpu, cuda or auto)")
    return torch.device("cpu")


@contextmanager
def distributed(device_name: str) -> Iterator[World]:
    """Join the process group ``torchrun`` set up, if any; leave it afterwards."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        yield World()
        return
    world = World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))
    gpu = device_name in ("cuda", "auto") and torch.cuda.is_available()
    if gpu:
        torch.cuda.set_device(world.local_rank)
    dist.init_process_group("nccl" if gpu else "gloo")
    try:
        yield world
    finally:
        dist.destroy_process_group()


def train(settings: TrainSettings, progress: Progress | None = None) -> VideoGan:
    """Train (or resume) a video GAN as ``settings`` say; returns the trained model."""
    with distributed(settings.device) as world:
        return _train(settings, world, progress)


def _train(settings: TrainSettings, world: World, progress: Progress | None) -> VideoGan:
    device = pick_device(settings.device, world)
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    torch.set_num_threads(settings.threads or max(1, (os.cpu_count() or 1) // local))
    out = settings.out
    if world.leader:
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise OutputError(f"{out}: cannot create the output folder ({error.strerror})"
                              ) from error
        if not os.access(out, os.W_OK):
            raise OutputError(f"{out}: not writable")
    o = settings.options
    data = ClipSet(settings.videos, o.size, o.frames, settings.frame_step)
    model = VideoGan(o, settings.optim, device=device)
    saved = _resume_state(out / "last.pt", o, world)
    earlier_seconds = 0.0
    if saved is not None:
        model.load(saved)
        earlier_seconds = float(saved.get("extra", {}).get("seconds", 0.0))
        log.info("resuming from step %d", model.step)
    g, d, e = _wrap(model, world, device)
    torch.manual_seed(settings.seed * 1000 + world.rank + model.step)
    rng = np.random.default_rng([settings.seed, world.rank, model.step])
    started, start_step = time.monotonic(), model.step
    losses: dict[str, float] = {}
    history = out / "losses.jsonl"
    while model.step < settings.steps:
        real = data.batch(rng, settings.batch)
        losses = model.train_step(real, g, d, e)
        if world.leader:
            if model.step % 50 == 0 or model.step == settings.steps:
                with history.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"step": model.step, **losses}) + "\n")
            if progress is not None:
                progress(model.step, settings.steps, losses)
            if model.step % 100 == 0:
                log.info("step %d: %s", model.step,
                         ", ".join(f"{k} {v:.3f}" for k, v in losses.items()))
            if model.step % settings.save_every == 0 or model.step == settings.steps:
                _save(model, settings, data, world, device, earlier_seconds,
                      time.monotonic() - started, losses, start_step)
    if world.size > 1:
        dist.barrier()
    return model


def _wrap(model: VideoGan, world: World, device: torch.device
          ) -> tuple[torch.nn.Module, torch.nn.Module, torch.nn.Module | None]:
    """The networks as the step should call them: DDP replicas when distributed."""
    assert model.discriminator is not None
    if world.size == 1:
        return model.generator, model.discriminator, model.encoder
    ids = [device.index] if device.type == "cuda" else None
    g = DistributedDataParallel(model.generator, device_ids=ids)
    # Each replica's BatchNorm statistics stay its own: buffers synced from rank 0 before
    # every forward would overwrite them mid-step (the real/fake split). This is the
    # older ``broadcast_buffers=False``, under its torch 2.13 name.
    d = DistributedDataParallel(model.discriminator, device_ids=ids,
                                forward_sync_buffers=False)
    e = (DistributedDataParallel(model.encoder, device_ids=ids)
         if model.encoder is not None else None)
    return g, d, e


def _resume_state(last: Path, options: VganOptions, world: World) -> dict[str, Any] | None:
    """Rank 0's saved training state, if any, handed to every rank (machines need not
    share a filesystem, and all must resume from the same step)."""
    saved: dict[str, Any] | None = None
    problem: str | None = None
    if world.leader and last.is_file():
        try:
            saved = checkpoint.read(last)
        except InputError as error:
            problem = str(error)
        else:
            if VganOptions.from_dict(saved["options"]) != options:
                problem = (f"{last}: saved with other network settings; use another "
                           "output folder or the same settings")
    if world.size > 1:  # every rank learns the state, or the problem, and none hangs
        box: list[object] = [problem or saved]
        dist.broadcast_object_list(box, src=0)
        shared = box[0]
        if isinstance(shared, str):
            problem = shared
        elif isinstance(shared, dict):
            saved = shared
    if problem is not None:
        raise InputError(problem)
    return saved


def _save(model: VideoGan, settings: TrainSettings, data: ClipSet, world: World,
          device: torch.device, earlier_seconds: float, seconds: float,
          losses: dict[str, float], start_step: int) -> None:
    out = settings.out
    checkpoint.save(model, out / "last.pt", training=True,
                    extra={"seconds": earlier_seconds + seconds})
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
        seconds=earlier_seconds + seconds, losses=losses)
    write_card(out / "card.md", facts)
    log.info("step %d saved (%.0f steps/min)", model.step,
             (model.step - start_step) / max(seconds / 60, 1e-9))
