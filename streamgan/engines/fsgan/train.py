"""``streamgan train fsgan``: a personal (or general) fsgan model by self-reenactment.

Every video must carry a ``train`` consent tag for its bytes, checked before any
frame is read. The clips are tracked, the warp renders the self-reenactment pairs
once (:mod:`.data`), and the shared loop (:mod:`streamgan.train.loop`) trains, alone
or under ``torchrun`` (each process reads and renders its share of the videos),
resuming from ``last.pt``. Rank 0 writes ``model.pt`` (for
``reenact --engine fsgan --model``), a preview and the model card.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

import streamgan
from streamgan.engines.fsgan.checkpoint import TRAIN_FORMAT, ModelFacts, save_model
from streamgan.engines.fsgan.data import Batch, Clip, SelfReenactmentSet, read_clip
from streamgan.engines.fsgan.model import FsganModel, blended
from streamgan.engines.fsgan.options import FsganOptions
from streamgan.errors import InputError
from streamgan.media import VIDEO_SUFFIXES
from streamgan.media.image import write_image
from streamgan.train import card, checkpoint
from streamgan.train.distributed import World, agree, distributed, pick_device, shard, total
from streamgan.train.loop import Elapsed, LoopSettings, Progress, fit, prepare_out, set_threads

log = logging.getLogger(__name__)

TRAIN_VERSION = 1


@dataclass(frozen=True)
class TrainSettings:
    """What ``streamgan train fsgan`` can be told."""

    videos: Path
    """A video, or a folder searched for videos."""
    out: Path
    options: FsganOptions = FsganOptions()
    steps: int = 600
    batch: int = 8
    seed: int = 0
    device: str = "auto"
    save_every: int = 200
    threads: int | None = None
    max_side: int | None = 640
    """Videos are read with their long side at most this (the warp's work)."""
    frame_step: int = 1
    use_first: float = 1.0
    """Train on this fraction of each video's frames, from its start (the rest is
    held out, e.g. for ``benchmarks/fsgan_quality.py``)."""
    sources_per_clip: int = 8
    pairs_per_video: int | None = None
    """Driving frames drawn from each video (None: every frame with a face); a cap keeps
    a corpus of long videos in memory."""
    trust: tuple[Path, ...] = ()
    """Extra trusted consent signers."""
    name: str = "streamgan fsgan model"

    def loop(self) -> LoopSettings:
        return LoopSettings(out=self.out, steps=self.steps, seed=self.seed,
                            save_every=self.save_every, threads=self.threads)


def find_videos(where: Path) -> list[Path]:
    """``where`` itself, or the videos under it (sorted), or a one-line error."""
    if where.is_file():
        return [where]
    if not where.is_dir():
        raise InputError(f"{where}: no such video or folder")
    videos = sorted(p for p in where.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES)
    if not videos:
        raise InputError(f"{where}: no videos found ({', '.join(VIDEO_SUFFIXES)})")
    return videos


def check_consent(videos: Sequence[Path], trust: Sequence[Path]) -> ModelFacts:
    """Every video's ``train`` consent, before anything else is read; the facts the
    model will carry."""
    from streamgan.safety.consent import require_training_consent

    records = [require_training_consent(v, extra_trust=trust) for v in videos]
    return ModelFacts(consent_records=tuple(dict.fromkeys(r.record_id for r in records)),
                      subjects=tuple(dict.fromkeys(r.subject for r in records)))


def read_clips(videos: Sequence[Path], settings: TrainSettings) -> Iterator[Clip]:
    """Each video's frames (the part trained on) and landmarks, one video at a time."""
    for video in videos:
        clip = read_clip(video, settings.max_side, settings.frame_step)
        keep = max(2, int(round(len(clip.frames) * settings.use_first)))
        clip = Clip(clip.frames[:keep], clip.landmarks[:keep])
        if len(clip.tracked) < 2:
            raise InputError(f"{video}: no face found in its frames (fsgan trains on "
                             "footage of a face)")
        log.info("%s: %d frames, %d with a face", video.name, len(clip.frames),
                 len(clip.tracked))
        yield clip


def self_reenactment_set(videos: Sequence[Path], settings: TrainSettings,
                         world: World) -> tuple[SelfReenactmentSet, int]:
    """This rank's pool of pairs, from its share of the videos (:func:`shard`), and the
    pairs of all ranks together. A video that fails on one rank stops every rank."""
    o = settings.options
    mine = shard(videos, world)
    data: SelfReenactmentSet | None = None
    problem = None
    try:
        data = SelfReenactmentSet(read_clips(mine, settings), o.size, o.face_fraction,
                                  settings.sources_per_clip, settings.pairs_per_video,
                                  seed=settings.seed)
    except InputError as error:
        problem = str(error)
    agree(world, problem)
    assert data is not None
    if len(mine) < len(videos):
        log.info("this process (rank %d of %d) prepared %d of the %d videos", world.rank,
                 world.size, len(mine), len(videos))
    return data, total(world, len(data))


def train(settings: TrainSettings, progress: Progress | None = None) -> FsganModel:
    """Train (or resume) an fsgan model as ``settings`` say."""
    with distributed(settings.device) as world:
        return _train(settings, world, progress)


def _train(settings: TrainSettings, world: World, progress: Progress | None) -> FsganModel:
    videos = find_videos(settings.videos)
    facts = check_consent(videos, settings.trust)
    device = pick_device(settings.device, world)
    set_threads(settings.threads)
    prepare_out(settings.out, world)
    o = settings.options
    data, pairs = self_reenactment_set(videos, settings, world)
    model = FsganModel(o, device, train=True, total_steps=settings.steps)
    examples = data.batch(np.random.default_rng(12345), 4)
    last = settings.out / "last.pt"

    def check(saved: dict[str, Any]) -> str | None:
        if saved.get("format") != TRAIN_FORMAT:
            return f"{last}: not a streamgan fsgan training checkpoint"
        if FsganOptions.from_dict(saved.get("options", {})) != o:
            saved_size = saved.get("options", {}).get("size")
            return (f"{last}: saved with other model settings (crop {saved_size}, this run "
                    f"{o.size}); use another output folder or the same settings")
        return None

    def save(elapsed: Elapsed, losses: dict[str, float]) -> None:
        checkpoint.save({**model.state(training=True),
                         "extra": {"seconds": elapsed.total_seconds}},
                        last, TRAIN_FORMAT, TRAIN_VERSION)
        run_facts = ModelFacts(settings.name, model.step, facts.consent_records,
                               facts.subjects, {"videos": [str(v) for v in videos]})
        save_model(model, run_facts, settings.out / "model.pt")
        write_image(settings.out / "preview.png", preview(model, examples))
        about = {"videos": len(videos), "pairs": pairs, "steps": model.step,
                 "batch": settings.batch, "processes": world.size,
                 "device": card.machine(device), "seconds": elapsed.total_seconds,
                 "losses": losses, "use_first": settings.use_first}
        card.write_card(settings.out / "card.md",
                        lambda quality: render_card(settings, model, run_facts, about,
                                                    quality))

    fit(model, settings.loop(), world, device, lambda rng: data.batch(rng, settings.batch),
        save, check, progress)
    return model


def to_uint8(t: torch.Tensor) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """(N, 3, H, W) in [-1, 1] to (N, H, W, 3) uint8."""
    return np.asarray(((t.clamp(-1, 1) + 1) * 127.5).round().byte()
                      .permute(0, 2, 3, 1).cpu().numpy(), np.uint8)


def preview(model: FsganModel, batch: Batch) -> np.ndarray[Any, np.dtype[np.uint8]]:
    """Rows: the warp's guess, the model's crop, the real frame."""
    out = model.refine(batch.inputs, batch.warped)
    final = blended(out, batch.warped.to(model.device))
    rows = [to_uint8(t) for t in (batch.warped, final, batch.real)]
    return np.concatenate([np.concatenate(list(r), 1) for r in rows], 0)


def render_card(settings: TrainSettings, model: FsganModel, facts: ModelFacts,
                about: dict[str, Any], quality: str) -> str:
    o = model.options
    params = sum(p.numel() for p in model.ema.parameters())
    held = ("all frames" if settings.use_first >= 1 else
            f"the first {settings.use_first:.0%} of each video's frames")
    lines = [
        f"# {settings.name}",
        "",
        f"An fsgan refiner ({params / 1e6:.2f}M parameters, {o.size}x{o.size} face crops) "
        f"on top of the `warp` engine, trained by streamgan {streamgan.__version__} with "
        "`streamgan train fsgan` by self-reenactment. Use it with `streamgan reenact "
        "DRIVER TARGET --engine fsgan --model model.pt`; every output is watermarked and "
        "C2PA-signed.",
        "",
        "## Data and consent",
        f"- Videos: {about['videos']} ({held}), {about['pairs']} self-reenactment pairs",
        f"- Consent records (scope `train`): {', '.join(facts.consent_records)}",
        f"- Subjects: {', '.join(facts.subjects)}",
        "- A personal model renders the person it was trained on; a target must still "
        "carry its own `reenact` consent",
        "",
        *card.training_and_quality(about, o.to_dict(), quality),
    ]
    return "\n".join(lines)
