"""The model card written beside every trained checkpoint.

Training writes what it knows (data, steps, settings, where it ran); the quality
benchmark fills the section between the QUALITY markers, so one card stays
current without hand editing.
"""

from __future__ import annotations

import json
import platform
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

import streamgan
from streamgan.media.atomic import atomic_output

QUALITY_START = "<!-- QUALITY -->"
QUALITY_END = "<!-- /QUALITY -->"


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


def machine(device: torch.device) -> str:
    """Where training ran, in words, for the card."""
    cpu = f"{platform.machine()} CPU, {torch.get_num_threads()} threads"
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}); {cpu}"
    return cpu


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
        QUALITY_START,
        quality.strip() or "Not measured yet: run `benchmarks/vgan_quality.py --card`.",
        QUALITY_END,
        "",
    ]
    return "\n".join(lines)


def write_card(path: Path, facts: TrainingFacts) -> None:
    """Write the card, keeping a quality section an earlier benchmark put there."""
    quality = ""
    if path.is_file():
        quality = quality_section(path.read_text(encoding="utf-8"))
    with atomic_output(path) as temp:
        temp.write_text(render(facts, quality), encoding="utf-8")


def quality_section(text: str) -> str:
    found = re.search(re.escape(QUALITY_START) + r"(.*?)" + re.escape(QUALITY_END), text,
                      re.S)
    return found.group(1).strip() if found else ""


def set_quality(path: Path, quality: str) -> None:
    """Replace the quality section of the card at ``path``."""
    text = path.read_text(encoding="utf-8")
    if QUALITY_START not in text:
        raise ValueError(f"{path}: no quality section to fill")
    start = text.index(QUALITY_START) + len(QUALITY_START)
    end = text.index(QUALITY_END)
    with atomic_output(path) as temp:
        temp.write_text(text[:start] + "\n" + quality.strip() + "\n" + text[end:],
                        encoding="utf-8")
