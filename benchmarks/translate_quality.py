"""How well the shipped ``toon`` model does what it learned, against controls.

The model learned a recipe (``models/translate-toon/make_data.py``: smoothing, soft
colour levels, ink on edges) from pairs. On held-out pictures made the same way
with another seed, this measures how close its output is to the recipe's (PSNR and
mean absolute error, 8-bit levels), next to controls that show what the figures
catch: the input itself (a model that learned nothing), and the recipe's output
blurred (the right colours with soft edges). The model runs as ``translate`` runs
it: at its 320-pixel working size on 640x480 pictures; the recipe's output is scaled
through that size too, as the training targets were.

Run: ``python benchmarks/translate_quality.py [--pictures 60] [--model toon] [--card]``.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import platform
import time
from pathlib import Path

import cv2
import numpy as np
import torch

from streamgan.translate.engine import Translator
from streamgan.translate.registry import model_path, resolve_model

REPO = Path(__file__).resolve().parent.parent


def recipe_module() -> object:
    path = REPO / "models" / "translate-toon" / "make_data.py"
    spec = importlib.util.spec_from_file_location("toon_make_data", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def held_out(count: int, seed: int = 4242) -> list[np.ndarray]:
    """640x480 pictures made like the training inputs, from another seed."""
    data = recipe_module()
    rng = np.random.default_rng(seed)
    sources = data.photos() + data.samples()  # type: ignore[attr-defined]
    out = []
    for i in range(count):
        picture = (data.scene(rng, 512) if i % 3 == 0  # type: ignore[attr-defined]
                   else sources[int(rng.integers(len(sources)))])
        h, w = picture.shape[:2]
        side_w, side_h = min(w, h * 4 // 3), min(h, w * 3 // 4)
        top, left = int(rng.integers(h - side_h + 1)), int(rng.integers(w - side_w + 1))
        crop = picture[top:top + side_h, left:left + side_w]
        out.append(np.ascontiguousarray(cv2.resize(crop, (640, 480),
                                                   interpolation=cv2.INTER_AREA)))
    return out


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10 * np.log10(255 ** 2 / max(mse, 1e-12))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pictures", type=int, default=60)
    parser.add_argument("--model", default="toon")
    parser.add_argument("--card", action="store_true",
                        help="write the table into the model's card.md")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(2)
    started = time.perf_counter()
    toon = recipe_module().toon  # type: ignore[attr-defined]
    pictures = held_out(args.pictures)
    # As in training, the recipe runs on the full picture and is seen at the model's
    # working size (320x240, scaled back up): the comparison asks for what it can see.
    targets = [cv2.resize(cv2.resize(toon(p), (320, 240), interpolation=cv2.INTER_AREA),
                          (640, 480), interpolation=cv2.INTER_LINEAR) for p in pictures]
    translator = Translator(resolve_model(args.model))
    sources = {
        "input unchanged (learned nothing)": pictures,
        "recipe, blurred (sigma 2 px)": [cv2.GaussianBlur(t, (0, 0), 2.0) for t in targets],
        f"model ({args.model})": [translator([p])[0] for p in pictures],
    }
    rows = []
    for name, outputs in sources.items():
        rows.append((name, np.mean([psnr(o, t) for o, t in zip(outputs, targets, strict=True)]),
                     np.mean([np.abs(o.astype(float) - t).mean()
                              for o, t in zip(outputs, targets, strict=True)])))
    lines = [f"Measured by `benchmarks/translate_quality.py` on {args.pictures} held-out "
             "640x480 pictures made like the training inputs (another seed), against the "
             "recipe's output; machine: "
             f"{platform.machine()}, torch {torch.__version__}, "
             f"{time.perf_counter() - started:.0f} s.", "",
             "| output | PSNR to the recipe (dB) | mean abs error (levels) |",
             "| --- | --- | --- |"]
    lines += [f"| {name} | {p:.2f} | {e:.2f} |" for name, p, e in rows]
    table = "\n".join(lines)
    print(table)
    if args.card:
        from streamgan.train.card import set_quality

        set_quality(model_path(args.model).with_name("card.md"), table)


if __name__ == "__main__":
    main()
