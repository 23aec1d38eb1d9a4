"""One rank of the fsgan DDP tests (run by torchrun): train the tiny model through
streamgan's trainer, then record the replica's step and weights, or the one-line error
it stopped with."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from streamgan.engines.fsgan.options import PRESETS
from streamgan.engines.fsgan.train import TrainSettings, train
from streamgan.errors import InputError
from tests.generate.test_train import digest


def main() -> None:
    video, out, trust, steps = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), \
        int(sys.argv[4])
    dump = Path(os.environ["STREAMGAN_TEST_DUMP"], f"rank{os.environ['RANK']}.json")
    try:
        model = train(TrainSettings(videos=video, out=out, options=PRESETS["tiny"],
                                    steps=steps, batch=2, save_every=steps, device="cpu",
                                    threads=1, sources_per_clip=1, trust=(trust,)))
    except InputError as error:  # what the CLI would print; every rank should get it
        dump.write_text(json.dumps({"error": str(error)}))
        sys.exit(1)
    nets = [model.generator, *([model.discriminator] if model.discriminator else [])]
    dump.write_text(json.dumps({"step": model.step,
                                "weights": digest(p for n in nets for p in n.parameters())}))


if __name__ == "__main__":
    main()
