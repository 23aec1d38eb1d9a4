"""Speed of the ``fsgan`` engine: the network alone, and whole ``reenact`` runs next to
``warp`` and a plain transcode of the same driver, measured in one run.

- network: milliseconds per face crop for each preset's generator (cpu: 128 px, gpu:
  256 px), batch 1, on the CPU in float32 and, when CUDA is here, in fp16 autocast with
  channels-last at batch 1 and 8 (per crop), plain and compiled (``torch.compile``);
- end to end: ``streamgan reenact`` at 640x360 and 1280x720 with ``--engine warp`` and
  ``--engine fsgan`` (a cpu-preset model; its weights do not change its speed; on CUDA
  its defaults: batches of 8, compiled), fps and the ratio to the transcode (decode and
  encode only, the floor any video tool pays).

Run: ``python benchmarks/fsgan_speed.py [--model MODEL.pt] [--repeat 2]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

from reenact_speed import SAMPLE_TRUST, SAMPLES, transcode, upscale  # noqa: E402

from streamgan.engines.fsgan.checkpoint import ModelFacts, save_model  # noqa: E402
from streamgan.engines.fsgan.model import FsganModel  # noqa: E402
from streamgan.engines.fsgan.options import PRESETS  # noqa: E402
from streamgan.pipeline.reenact import ReenactSettings, reenact  # noqa: E402
from streamgan.safety.consent import grant_consent  # noqa: E402
from streamgan.safety.consent_keys import generate_keypair  # noqa: E402


def network_ms(preset: str, device: str, batch: int, repeat: int = 20,
               compiled: bool = False) -> float:
    """Milliseconds per crop of the averaged generator and its heads (what inference
    runs), ``compiled`` once with ``torch.compile`` as the engine does on CUDA."""
    model = FsganModel(PRESETS[preset], device, train=False)
    o = model.options
    x = torch.rand(batch, o.in_channels, o.size, o.size, device=device)
    warped = torch.rand(batch, 3, o.size, o.size, device=device) * 2 - 1
    if device == "cuda":
        model.ema.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        x = x.to(memory_format=torch.channels_last)
    if compiled:
        model.compile()
    with torch.autocast("cuda", torch.float16, enabled=device == "cuda"):
        for _ in range(5):  # and the compile, once
            model.refine(x, warped)
        if device == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(repeat):
            model.refine(x, warped)
        if device == "cuda":
            torch.cuda.synchronize()
    return (time.perf_counter() - start) * 1000 / repeat / batch


def run(driver: Path, target: Path, out: Path, engine: str, model: Path | None,
        trust: Path, device: str, repeat: int) -> float:
    """Best fps of ``repeat`` reenact runs, preparation left out."""
    best = 0.0
    for _ in range(repeat):
        report = reenact(driver, target, out, ReenactSettings(
            engine=engine, model=model, device=device if engine == "fsgan" else "cpu",
            trust=(trust,)))
        prepare = report.times.seconds.get("prepare", 0.0)
        best = max(best, report.frames / (report.seconds - prepare))
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="default: an untrained cpu-preset model")
    parser.add_argument("--repeat", type=int, default=2, help="best of N runs")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cuda = torch.cuda.is_available()
    device = "cuda" if cuda else "cpu"
    torch.set_num_threads(os.cpu_count() or 1)
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"torch {torch.__version__}"
          + (f", {torch.cuda.get_device_name()}" if cuda else ", no GPU"))
    for preset in ("cpu", "gpu"):
        o = PRESETS[preset]
        line = (f"network, preset {preset} ({o.size} px crop): CPU fp32 batch 1 "
                f"{network_ms(preset, 'cpu', 1, 5):.1f} ms")
        if cuda:
            line += (f"; CUDA fp16 batch 1 {network_ms(preset, 'cuda', 1):.2f} ms, "
                     f"batch 8 {network_ms(preset, 'cuda', 8):.2f} ms per crop; compiled: "
                     f"batch 1 {network_ms(preset, 'cuda', 1, compiled=True):.2f} ms, "
                     f"batch 8 {network_ms(preset, 'cuda', 8, compiled=True):.2f} ms per crop")
        print(line)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = args.model
        if model is None:
            model = work / "model.pt"
            save_model(FsganModel(PRESETS["cpu"], train=False), ModelFacts(), model)
        d720, t720 = upscale(SAMPLES / "driver.mp4", SAMPLES / "target.png", work,
                             (1280, 720))
        signer = generate_keypair(work / "bench-signer")
        grant_consent(t720, signer.private, "benchmark", ("reenact",))
        print(f"{'clip':10} {'transcode fps':>14} {'warp fps':>9} {'fsgan fps':>10} "
              f"{'fsgan / transcode':>18} {'fsgan / warp':>13}")
        for name, driver, target, trust in (
                ("640x360", SAMPLES / "driver.mp4", SAMPLES / "target.png", SAMPLE_TRUST),
                ("1280x720", d720, t720, signer.public)):
            frames, seconds = transcode(driver, work / "t.mp4", 20, "veryfast")
            base = frames / seconds
            warp = run(driver, target, work / "w.mp4", "warp", None, trust, device,
                       args.repeat)
            fsgan = run(driver, target, work / "f.mp4", "fsgan", model, trust, device,
                        args.repeat)
            print(f"{name:10} {base:14.1f} {warp:9.1f} {fsgan:10.1f} {fsgan / base:18.2f} "
                  f"{fsgan / warp:13.2f}")


if __name__ == "__main__":
    main()
