"""The model card written beside every trained checkpoint.

Training writes what it knows (data, steps, settings, where it ran); a quality
benchmark fills the section between the QUALITY markers, so one card stays current
without hand editing. Each model family renders its own text around that section.
"""

from __future__ import annotations

import json
import platform
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from streamgan.media.atomic import atomic_output

QUALITY_START = "<!-- QUALITY -->"
QUALITY_END = "<!-- /QUALITY -->"
NOT_MEASURED = "Not measured yet."


def machine(device: torch.device) -> str:
    """Where training ran, in words, for the card."""
    cpu = f"{platform.machine()} CPU, {torch.get_num_threads()} threads"
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda}); {cpu}"
    return cpu


def training_and_quality(facts: dict[str, Any], settings: dict[str, Any], quality: str,
                         optimiser: dict[str, Any] | None = None,
                         placeholder: str = NOT_MEASURED) -> list[str]:
    """A card's Training and Quality sections from what the loop knows: ``facts`` has
    steps, batch, processes, device, seconds and losses; ``settings`` the model's;
    ``optimiser`` the Adam settings when they are not among them."""
    return [
        "## Training",
        f"- Steps: {facts['steps']}, batch {facts['batch']} per process x "
        f"{facts['processes']} process(es)",
        f"- Where: {facts['device']}, torch {torch.__version__}",
        f"- Wall time: {facts['seconds'] / 60:.1f} min",
        f"- Settings: `{json.dumps(settings, sort_keys=True)}`",
        *([f"- Optimiser: Adam `{json.dumps(optimiser, sort_keys=True)}`"]
          if optimiser is not None else []),
        "- Inference uses an exponential moving average of the generator",
        "- Last losses: " + ", ".join(f"{k} {v:.3f}" for k, v in facts["losses"].items()),
        "",
        "## Quality",
        *quality_block(quality, placeholder),
        "",
    ]


def quality_block(quality: str, placeholder: str = NOT_MEASURED) -> list[str]:
    """The marked quality section, as card lines."""
    return [QUALITY_START, quality.strip() or placeholder, QUALITY_END]


def write_card(path: Path, render: Callable[[str], str]) -> None:
    """Write ``render(quality)`` to ``path``, keeping a quality section an earlier
    benchmark put there."""
    quality = ""
    if path.is_file():
        quality = quality_section(path.read_text(encoding="utf-8"))
    with atomic_output(path) as temp:
        temp.write_text(render(quality), encoding="utf-8")


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
