"""The video GAN's model card: what the paper's model is and how this one was made.

The section markers, the machine's description and keeping a benchmark's quality
section across retraining are the shared :mod:`streamgan.train.card`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

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
        *card.training_and_quality(asdict(facts), o, quality, optimiser=facts.optim,
                                   placeholder="Not measured yet: run "
                                   "`benchmarks/vgan_quality.py --card`."),
    ]
    return "\n".join(lines)


def write_card(path: Path, facts: TrainingFacts) -> None:
    """Write the video GAN's card, keeping a quality section a benchmark put there."""
    card.write_card(path, lambda quality: render(facts, quality))
