"""One rank of the fsgan DDP test (run by torchrun): train the tiny model through
streamgan's trainer, then record the replica's step and weights."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from streamgan.engines.fsgan.options import PRESETS
from streamgan.engines.fsgan.train import TrainSettings, train
from tests.generate.test_train import digest


def main() -> None:
    video, out, trust, steps = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), \
        int(sys.argv[4])
    model = train(TrainSettings(videos=video, out=out, options=PRESETS["tiny"], steps=steps,
                                batch=2, save_every=steps, device="cpu", threads=1,
                                sources_per_clip=1, trust=(trust,)))
    nets = [model.generator, *([model.discriminator] if model.discriminator else [])]
    Path(os.environ["STREAMGAN_TEST_DUMP"], f"rank{os.environ['RANK']}.json").write_text(
        json.dumps({"step": model.step,
                    "weights": digest(p for n in nets for p in n.parameters())}))


if __name__ == "__main__":
    main()
