"""The video GAN's model card: what the paper's model is and how this one was made.

The section markers, the machine's description and keeping a benchmark's quality
section across retraining are the shared :mod:`streamgan.train.card`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import streamgan
from streamgan.train import card


@dataclass
class TrainingFacts:
    """What the card says about how a model was made."""

    name: str
    videos: str
    data: dict[str, Any]
    options: dict[str, Any]
    optim: dict[str, Any]
    steps: int
    batch: int
    processes: int
    device: str
    seconds: float
    losses: dict[str, float] = field(default_factory=dict)


def render(facts: TrainingFacts, quality: str) -> str:
    o = facts.options
    lines = [
        f"# {facts.name}",
        "",
        "A two-stream video GAN (Vondrick, Pirsiavash and Torralba, \"Generating Videos "
        "with Scene Dynamics\", NIPS 2016) trained by streamgan "
        f"{streamgan.__version__} with `streamgan train vgan`. Clips are "
        f"{o['size']}x{o['size']} pixels, {o['frames']} frames"
        + (", generated from a still image (conditional)" if o.get("conditional") else "")
        + ". Every clip `streamgan generate` writes is watermarked and C2PA-labelled as "
        "AI-generated.",
        "",
        "## Data",
        f"- Videos: `{facts.videos}`",
        *[f"- {k}: {v}" for k, v in facts.data.items()],
        "",
        "## Training",
        f"- Steps: {facts.steps}, batch {facts.batch} per process x {facts.processes} "
        f"process(es)",
        f"- Where: {facts.device}, torch {torch.__version__}",
        f"- Wall time: {facts.seconds / 60:.1f} min",
        f"- Network: `{json.dumps(o, sort_keys=True)}`",
        f"- Optimiser: Adam `{json.dumps(facts.optim, sort_keys=True)}`; samples come from "
        "an exponential moving average of the generator",
        "- Last losses: " + ", ".join(f"{k} {v:.3f}" for k, v in facts.losses.items()),
        "",
        "## Quality",
        *card.quality_block(quality, "Not measured yet: run "
                            "`benchmarks/vgan_quality.py --card`."),
        "",
    ]
    return "\n".join(lines)


def write_card(path: Path, facts: TrainingFacts) -> None:
    """Write the video GAN's card, keeping a quality section a benchmark put there."""
    card.write_card(path, lambda quality: render(facts, quality))
