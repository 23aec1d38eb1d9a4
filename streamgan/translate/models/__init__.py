"""Translation models by name: each is one file against :class:`TranslationModel`."""

from __future__ import annotations

import torch

from streamgan.translate.models.base import TranslationModel
from streamgan.translate.models.cyclegan import CycleGan
from streamgan.translate.models.pix2pix import Pix2Pix
from streamgan.translate.options import ModelOptions

MODELS: dict[str, type[TranslationModel]] = {"pix2pix": Pix2Pix, "cyclegan": CycleGan}


def create_model(options: ModelOptions, device: torch.device | str = "cpu",
                 train: bool = True, total_steps: int = 1) -> TranslationModel:
    return MODELS[options.model](options, device, train, total_steps)
