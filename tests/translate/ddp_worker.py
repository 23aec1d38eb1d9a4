"""One rank of the translation DDP test (run by torchrun): train pix2pix through
streamgan's trainer, then record what this replica saw and ended with."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

import streamgan.translate.train as trainer
from streamgan.translate.data import PairedSet
from streamgan.translate.options import ModelOptions
from streamgan.translate.train import TrainSettings, train
from tests.generate.test_train import digest


class RecordingPairs(PairedSet):
    """The trainer's data, noting a checksum of every batch it hands out."""

    seen: list[float] = []

    def batch(self, rng: np.random.Generator, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = super().batch(rng, n)
        RecordingPairs.seen.append(float(a.sum()))
        return a, b


def main() -> None:
    data, out, steps = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    trainer.PairedSet = RecordingPairs  # type: ignore[misc]
    options = ModelOptions(size=32, ndf=8, fast_width=4, fast_blocks=1)
    model = train(TrainSettings(out=out, paired=data, options=options, steps=steps, batch=2,
                                save_every=steps, device="cpu", threads=1))
    params = [p for n in (*model.generators.values(), *model.discriminators.values())
              for p in n.parameters()]
    Path(os.environ["STREAMGAN_TEST_DUMP"], f"rank{os.environ['RANK']}.json").write_text(
        json.dumps({"step": model.step, "weights": digest(params),
                    "batches": RecordingPairs.seen}))


if __name__ == "__main__":
    main()
