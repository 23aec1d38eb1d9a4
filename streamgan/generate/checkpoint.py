"""Checkpoint files of the video GAN: what a saved model holds.

Training checkpoints keep the discriminator and optimisers to resume; sampling
checkpoints (what ``models/`` ships) keep only the averaged generator and encoder.
Writing, safe reading and errors are the shared :mod:`streamgan.train.checkpoint`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from streamgan.generate.model import OptimOptions, VideoGan
from streamgan.generate.options import VganOptions
from streamgan.train import checkpoint as files

FORMAT = "streamgan-vgan"
VERSION = 1

SHIPPED = "vgan-digits/model.pt"
"""The shipped model, relative to the models folder."""


def shipped_model() -> Path:
    return files.shipped(SHIPPED)


def save(model: VideoGan, path: Path, training: bool = True,
         extra: dict[str, Any] | None = None) -> None:
    """Write ``model`` to ``path`` atomically."""
    files.save({**model.state(training), "extra": extra or {}}, path, FORMAT, VERSION)


def read(path: Path) -> dict[str, Any]:
    """The checkpoint dict at ``path``, or an :class:`InputError` saying what is wrong."""
    return files.read(path, FORMAT, VERSION, "streamgan video GAN")


def load(path: Path, device: str = "cpu", train: bool = False) -> tuple[VideoGan,
                                                                         dict[str, Any]]:
    """The model saved at ``path`` and the checkpoint's ``extra`` dict."""
    data = read(path)
    try:
        options = VganOptions.from_dict(data["options"])
        optim = OptimOptions(**data.get("optim", {}))
        model = VideoGan(options, optim, device=device, train=train)
        model.load(data)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise files.damaged(path, e) from e
    extra = data.get("extra", {})
    return model, extra if isinstance(extra, dict) else {}
