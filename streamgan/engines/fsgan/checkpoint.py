"""``model.pt`` of an fsgan model: the averaged generator, its options, and whose
consent its training footage carried. Read with clear one-line errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from streamgan.engines.fsgan.model import FsganModel
from streamgan.engines.fsgan.options import FsganOptions
from streamgan.errors import InputError
from streamgan.media.atomic import atomic_output
from streamgan.train import checkpoint

FORMAT = "streamgan-fsgan"
VERSION = 1
TRAIN_FORMAT = "streamgan-fsgan-train"


@dataclass(frozen=True)
class ModelFacts:
    """What ``model.pt`` says about itself besides its weights."""

    name: str = "streamgan fsgan model"
    trained_steps: int = 0
    consent_records: tuple[str, ...] = ()
    """The ``train`` consent record ids of the footage it learned from."""
    subjects: tuple[str, ...] = ()
    """Who those records name."""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "trained_steps": self.trained_steps,
                "consent_records": list(self.consent_records),
                "subjects": list(self.subjects), **self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelFacts:
        known = ("name", "trained_steps", "consent_records", "subjects")
        return cls(str(data.get("name", cls.name)), int(data.get("trained_steps", 0)),
                   tuple(map(str, data.get("consent_records", ()))),
                   tuple(map(str, data.get("subjects", ()))),
                   {k: v for k, v in data.items() if k not in known})


def save_model(model: FsganModel, facts: ModelFacts, path: Path) -> None:
    """Write the averaged generator to ``path`` atomically."""
    payload = {"format": FORMAT, "version": VERSION, "options": model.options.to_dict(),
               "generator": model.ema.state_dict(), "extra": facts.to_dict()}
    with atomic_output(path) as temp:
        torch.save(payload, temp)


def load_model(path: Path, device: torch.device | str = "cpu"
               ) -> tuple[FsganModel, ModelFacts]:
    """The model at ``path`` ready for inference, or a one-line :class:`InputError`:
    missing, unreadable, another kind of checkpoint, or weights that do not fit."""
    data = checkpoint.read(path, FORMAT, VERSION, "streamgan fsgan")
    try:
        options = FsganOptions.from_dict(dict(data["options"]))
    except (KeyError, TypeError, ValueError) as error:
        raise checkpoint.damaged(path, error) from error
    model = FsganModel(options, device, train=False)
    try:
        model.ema.load_state_dict(data["generator"])
    except (KeyError, RuntimeError, TypeError) as error:
        raise checkpoint.damaged(path, error) from error
    extra = data.get("extra", {})
    if not isinstance(extra, dict):
        raise InputError(f"{path}: damaged checkpoint (extra is not a mapping)")
    return model, ModelFacts.from_dict(extra)
