"""Checkpoint files: what a saved video GAN holds, and clear errors when one is bad.

A checkpoint is a ``torch.save`` dict tagged with a format name and version, loaded
with ``weights_only=True`` (plain tensors and containers only, never pickled code).
Training checkpoints keep the discriminator and optimisers to resume; sampling
checkpoints (what ``models/`` ships) keep only the averaged generator and encoder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

import streamgan
from streamgan.errors import InputError
from streamgan.generate.model import OptimOptions, VideoGan
from streamgan.generate.options import VganOptions
from streamgan.media.atomic import atomic_output

FORMAT = "streamgan-vgan"
VERSION = 1

SHIPPED = "vgan-digits/model.pt"
"""The shipped model, relative to the models folder."""


def models_dir() -> Path:
    """``$STREAMGAN_MODELS``, else the ``models/`` folder beside the installed package
    (a source checkout or an editable install)."""
    env = os.environ.get("STREAMGAN_MODELS")
    if env:
        return Path(env)
    return Path(streamgan.__file__).resolve().parent.parent / "models"


def shipped_model() -> Path:
    path = models_dir() / SHIPPED
    if not path.is_file():
        raise InputError(f"the shipped model {path} is missing (a source checkout has it; "
                         "or pass --model CKPT)")
    return path


def save(model: VideoGan, path: Path, training: bool = True,
         extra: dict[str, Any] | None = None) -> None:
    """Write ``model`` to ``path`` atomically (a crash never leaves half a file)."""
    payload = {"format": FORMAT, "version": VERSION, "streamgan": streamgan.__version__,
               **model.state(training), "extra": extra or {}}
    with atomic_output(path) as temp:
        torch.save(payload, temp)


def read(path: Path) -> dict[str, Any]:
    """The checkpoint dict at ``path``, or an :class:`InputError` saying what is wrong."""
    if not path.is_file():
        raise InputError(f"{path}: no such model file")
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds (RuntimeError, UnpicklingError, ...)
        raise InputError(f"{path}: not a readable checkpoint ({type(e).__name__})") from e
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise InputError(f"{path}: not a streamgan video GAN checkpoint")
    if int(data.get("version", 0)) > VERSION:
        raise InputError(f"{path}: checkpoint version {data['version']} is newer than this "
                         "streamgan reads; upgrade streamgan")
    return data


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
        raise InputError(f"{path}: damaged checkpoint ({type(e).__name__}: "
                         f"{str(e).splitlines()[0][:120]})") from e
    extra = data.get("extra", {})
    return model, extra if isinstance(extra, dict) else {}
