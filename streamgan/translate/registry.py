"""What ``--model`` names: a shipped translation model, or a checkpoint file.

Shipped models live under ``models/translate-NAME/model.pt`` (with their card and
preview); any other value is a file in one of the layouts
:mod:`streamgan.translate.formats` reads.
"""

from __future__ import annotations

from pathlib import Path

from streamgan.errors import InputError
from streamgan.train.checkpoint import models_dir
from streamgan.translate.formats import LoadedGenerator, load_generator

DEFAULT = "toon"
"""The shipped model ``translate`` and ``serve --style`` use when none is named."""


def shipped_names() -> list[str]:
    root = models_dir()
    if not root.is_dir():
        return []
    return sorted(p.parent.name.removeprefix("translate-")
                  for p in root.glob("translate-*/model.pt"))


def model_path(name: str | None) -> Path:
    """The checkpoint file ``name`` stands for."""
    name = name or DEFAULT
    path = Path(name)
    if path.is_file():
        return path
    shipped = models_dir() / f"translate-{name}" / "model.pt"
    if "/" not in name and shipped.is_file():  # a folder called "toon" here is no model
        return shipped
    if path.suffix or path.exists() or "/" in name:
        raise InputError(f"{path}: no such model file")
    names = ", ".join(shipped_names()) or "none found"
    raise InputError(f"unknown model {name!r}: not a file and not a shipped model "
                     f"({names})")


def resolve_model(name: str | None) -> LoadedGenerator:
    """The generator ``--model`` names, loaded on the CPU (the engine moves it)."""
    path = model_path(name)
    loaded = load_generator(path)
    if path.parent.name.startswith("translate-") and path.parent.parent == models_dir():
        loaded.name = path.parent.name.removeprefix("translate-")
    return loaded
