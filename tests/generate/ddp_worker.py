"""One rank of the DDP test (run by torchrun): train through streamgan's trainer, then
record what this replica saw and ended with, so the test can compare the ranks."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import torch

from streamgan.generate.clips import ClipSet
from streamgan.generate.options import PRESETS
from streamgan.generate.train import TrainSettings, train
from tests.generate.test_train import digest


class RecordingClips(ClipSet):
    """The trainer's clip set, noting a checksum of every batch it hands out."""

    seen: list[float] = []

    def batch(self, rng: np.random.Generator, n: int) -> torch.Tensor:
        clips = super().batch(rng, n)
        RecordingClips.seen.append(float(clips.sum()))
        return clips


def main() -> None:
    videos, out, steps = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    import streamgan.generate.train as trainer

    trainer.ClipSet = RecordingClips  # type: ignore[misc]
    model = train(TrainSettings(videos=videos, out=out, options=PRESETS["tiny"],
                                steps=steps, batch=4, save_every=steps, device="cpu"))
    assert model.discriminator is not None
    params = [*model.generator.parameters(), *model.discriminator.parameters()]
    Path(os.environ["STREAMGAN_TEST_DUMP"], f"rank{os.environ['RANK']}.json").write_text(
        json.dumps({"step": model.step, "weights": digest(params),
                    "batch_seen": RecordingClips.seen}))


if __name__ == "__main__":
    main()
