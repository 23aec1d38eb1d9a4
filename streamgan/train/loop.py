"""The training loop every streamgan model runs, alone or under ``torchrun``.

A model brings its networks, its step and its state (:class:`Trainable`); the loop
brings what is the same for all of them: threads, the output folder, resuming from
rank 0's ``last.pt`` (every rank resumes from the same step, and none needs a shared
filesystem), seeds per rank, the loss log, progress and periodic saves by rank 0.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch
import torch.distributed as dist

from streamgan.errors import InputError, OutputError
from streamgan.train.distributed import World

log = logging.getLogger(__name__)

Progress = Callable[[int, int, dict[str, float]], None]
"""Called on rank 0 with (step, total steps, last losses)."""


class Trainable(Protocol):
    """What the loop needs of a model (the video GAN, pix2pix, CycleGAN, ...)."""

    step: int

    def replicate(self, world: World, device: torch.device) -> Any:
        """The networks as ``train_step`` should call them (DDP replicas when distributed)."""
        ...

    def train_step(self, batch: Any, nets: Any) -> dict[str, float]:
        """One optimisation step on ``batch``; advances ``step``; returns the losses."""
        ...

    def state(self, training: bool = True) -> dict[str, Any]: ...

    def load(self, state: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class LoopSettings:
    """How long to train and how often to save, the same for every model."""

    out: Path
    steps: int
    """Total optimisation steps (a resumed run continues up to this)."""
    seed: int = 0
    save_every: int = 500
    log_every: int = 50
    threads: int | None = None
    """CPU threads per process; None: the machine's cores shared among local processes
    (streamgan's default of one BLAS thread suits tracking, not training)."""


@dataclass(frozen=True)
class Elapsed:
    """Training time so far, for saves and the card."""

    earlier_seconds: float
    """Spent by the runs this one resumed."""
    seconds: float
    """Spent by this run."""
    start_step: int

    @property
    def total_seconds(self) -> float:
        return self.earlier_seconds + self.seconds


Batches = Callable[[np.random.Generator], Any]
Save = Callable[[Elapsed, dict[str, float]], None]
Check = Callable[[dict[str, Any]], "str | None"]


def set_threads(threads: int | None) -> None:
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    torch.set_num_threads(threads or max(1, (os.cpu_count() or 1) // local))


def prepare_out(out: Path, world: World) -> None:
    """Rank 0 makes the output folder, or says in one line why it cannot."""
    if not world.leader:
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{out}: cannot create the output folder ({error.strerror})"
                          ) from error
    if not os.access(out, os.W_OK):
        raise OutputError(f"{out}: not writable")


def resume_state(last: Path, world: World, check: Check) -> dict[str, Any] | None:
    """Rank 0's saved training state, if any, handed to every rank. ``check`` returns
    why a state does not fit this run (other network settings), or None."""
    from streamgan.train import checkpoint

    saved: dict[str, Any] | None = None
    problem: str | None = None
    if world.leader and last.is_file():
        try:
            data = checkpoint.load_file(last)
            if not isinstance(data, dict):
                raise InputError(f"{last}: not a streamgan training checkpoint")
            saved = data
        except InputError as error:
            problem = str(error)
        else:
            problem = check(saved)
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


def fit(model: Trainable, settings: LoopSettings, world: World, device: torch.device,
        batches: Batches, save: Save, check: Check,
        progress: Progress | None = None) -> Elapsed:
    """Train ``model`` up to ``settings.steps``, resuming from ``out/last.pt``; ``save``
    is called on rank 0 every ``save_every`` steps and at the end."""
    out = settings.out
    saved = resume_state(out / "last.pt", world, check)
    earlier = 0.0
    if saved is not None:
        model.load(saved)
        earlier = float(saved.get("extra", {}).get("seconds", 0.0))
        log.info("resuming from step %d", model.step)
    nets = model.replicate(world, device)
    torch.manual_seed(settings.seed * 1000 + world.rank + model.step)
    rng = np.random.default_rng([settings.seed, world.rank, model.step])
    started, start_step = time.monotonic(), model.step
    history = out / "losses.jsonl"
    while model.step < settings.steps:
        losses = model.train_step(batches(rng), nets)
        if not world.leader:
            continue
        last = model.step == settings.steps
        if model.step % settings.log_every == 0 or last:
            with history.open("a", encoding="utf-8") as f:
                f.write(json.dumps({"step": model.step, **losses}) + "\n")
        if progress is not None:
            progress(model.step, settings.steps, losses)
        if model.step % 100 == 0:
            log.info("step %d: %s", model.step,
                     ", ".join(f"{k} {v:.3f}" for k, v in losses.items()))
        if model.step % settings.save_every == 0 or last:
            elapsed = Elapsed(earlier, time.monotonic() - started, start_step)
            save(elapsed, losses)
            log.info("step %d saved (%.0f steps/min)", model.step,
                     (model.step - start_step) / max(elapsed.seconds / 60, 1e-9))
    if world.size > 1:
        dist.barrier()
    return Elapsed(earlier, time.monotonic() - started, start_step)
