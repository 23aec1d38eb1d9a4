"""Render the moving-digits videos the shipped video GAN is trained on.

Each video is one scikit-learn digit (training split: the first 1500 images) moving
over a static smooth colour field, 64x64, 32 frames at 8 fps, nearly lossless H.264.
The benchmark renders its held-out clips the same way from the other digits.

    python models/vgan-digits/make_data.py --out /tmp/digits --videos 600
"""

from __future__ import annotations

import argparse
import logging
from fractions import Fraction
from pathlib import Path

import numpy as np

from streamgan.generate.digits import load_digits, render_clip
from streamgan.media import VideoWriter

log = logging.getLogger("make_data")

SIZE, FRAMES, FPS = 64, 32, 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--videos", type=int, default=600)
    parser.add_argument("--seed", type=int, default=2016)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    log.setLevel(logging.INFO)
    args.out.mkdir(parents=True, exist_ok=True)
    digits = load_digits("train")
    rng = np.random.default_rng(args.seed)
    for i in range(args.videos):
        clip = render_clip(rng, digits, FRAMES, SIZE)
        with VideoWriter(args.out / f"digits-{i:04d}.mp4", width=SIZE, height=SIZE,
                         time_base=Fraction(1, FPS), rate=Fraction(FPS), crf=8,
                         threaded=False) as writer:
            for t, frame in enumerate(clip.frames):
                writer.write_rgb(frame, t)
    log.info("%d videos in %s", args.videos, args.out)


if __name__ == "__main__":
    main()
