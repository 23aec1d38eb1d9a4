"""Checkpoint files: written atomically, read safely, with clear errors when bad.

A checkpoint is a ``torch.save`` dict tagged with a format name and version, loaded
with ``weights_only=True`` (plain tensors and containers only, never pickled code).
Each model family names its own format; this module knows none of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

import streamgan
from streamgan.errors import InputError
from streamgan.media.atomic import atomic_output


def models_dir() -> Path:
    """``$STREAMGAN_MODELS``, else the ``models/`` folder beside the installed package
    (a source checkout or an editable install)."""
    env = os.environ.get("STREAMGAN_MODELS")
    if env:
        return Path(env)
    return Path(streamgan.__file__).resolve().parent.parent / "models"


def shipped(relative: str) -> Path:
    """A model shipped under the models folder; a clear error when it is missing."""
    path = models_dir() / relative
    if not path.is_file():
        raise InputError(f"the shipped model {path} is missing (a source checkout has it; "
                         "or pass --model CKPT)")
    return path


def save(payload: dict[str, Any], path: Path, format: str, version: int) -> None:
    """Write ``payload`` tagged with its format to ``path`` atomically (a crash never
    leaves half a file)."""
    tagged = {"format": format, "version": version, "streamgan": streamgan.__version__,
              **payload}
    with atomic_output(path) as temp:
        torch.save(tagged, temp)


def load_file(path: Path) -> Any:
    """Whatever ``torch.load`` finds at ``path`` (weights only), or a one-line error."""
    if not path.is_file():
        raise InputError(f"{path}: no such model file")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # torch raises many kinds (RuntimeError, UnpicklingError, ...)
        raise InputError(f"{path}: not a readable checkpoint ({type(e).__name__})") from e


def read(path: Path, format: str, version: int, what: str) -> dict[str, Any]:
    """The checkpoint dict of ``format`` at ``path``; ``what`` names it in errors."""
    data = load_file(path)
    if not isinstance(data, dict) or data.get("format") != format:
        raise InputError(f"{path}: not a {what} checkpoint")
    if int(data.get("version", 0)) > version:
        raise InputError(f"{path}: checkpoint version {data['version']} is newer than this "
                         "streamgan reads; upgrade streamgan")
    return data


def damaged(path: Path, error: Exception) -> InputError:
    """The one-line error for a checkpoint whose contents do not fit its network."""
    first = str(error).strip().splitlines()[0][:160] if str(error).strip() else ""
    return InputError(f"{path}: damaged checkpoint ({type(error).__name__}: {first})")
