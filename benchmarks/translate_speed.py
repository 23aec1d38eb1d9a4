"""Translation speed: the engine against a naive loop and a plain transcode, in one run.

For each model and size, prints frames per second of:
- naive: the same network, batch 1, fp32, one frame at a time (numpy -> tensor ->
  network -> numpy), the way a first script would run it;
- engine: :class:`streamgan.translate.engine.Translator` as ``translate`` runs it
  (on CUDA: batches, fp16 autocast, channels-last; on the CPU: batch 1, where
  batching buys nothing but latency);
- file: ``streamgan translate`` end to end on a clip of that size (decode, model,
  temporal smoothing, watermark, encode, C2PA signing), next to a plain transcode of
  the same clip with the same x264 settings (the floor any video tool pays);
- live: the ``serve`` style filter's two stages at 640x480, the network at serve's
  live size (they run on two threads, so the slower one sets the rate; the VP8
  coding of a real call comes on top: ``benchmarks/webrtc_latency.py``).

Models: the shipped live model ``toon`` (at its 320-pixel working size) and
CycleGAN's ``resnet_9blocks`` (random weights: speed does not depend on them).

Run: ``python benchmarks/translate_speed.py [--frames 48] [--device cpu|cuda]``.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from streamgan.media import VideoWriter
from streamgan.pipeline.translate import TranslateSettings, translate
from streamgan.translate.engine import EngineOptions, Translator
from streamgan.translate.formats import (
    GeneratorSpec,
    LoadedGenerator,
    build_generator,
    to_checkpoint,
)
from streamgan.translate.registry import resolve_model

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reenact_speed import transcode  # noqa: E402

log = logging.getLogger("translate_speed")
CRF, PRESET = 20, "veryfast"


def clip(path: Path, width: int, height: int, frames: int) -> Path:
    """A moving textured test clip of this size (no real person)."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (height // 8 + 2, width // 8 + 2, 3)).astype(np.uint8)
    import cv2

    big = cv2.resize(base, (width + 64, height + 64), interpolation=cv2.INTER_CUBIC)
    with VideoWriter(path, width=width, height=height, time_base=Fraction(1, 25),
                     rate=Fraction(25), crf=18, preset="veryfast") as writer:
        for t in range(frames):
            dx, dy = (2 * t) % 64, t % 64
            writer.write_rgb(np.ascontiguousarray(big[dy:dy + height, dx:dx + width]), t)
    return path


def resnet9() -> LoadedGenerator:
    spec = GeneratorSpec("resnet", {"ngf": 64, "n_blocks": 9, "norm": "instance"})
    torch.manual_seed(0)
    return LoadedGenerator(net=build_generator(spec).eval(), spec=spec,
                           source="pytorch-CycleGAN-and-pix2pix", name="resnet_9blocks",
                           extra={}, sha256="")


def naive_fps(loaded: LoadedGenerator, frames: list[np.ndarray], device: str) -> float:
    """Batch 1, fp32, no tricks: the baseline."""
    net = loaded.net.to(device).eval()
    m = loaded.spec.multiple

    def one(f: np.ndarray) -> np.ndarray:
        x = torch.from_numpy(f).permute(2, 0, 1)[None].float().to(device) / 127.5 - 1
        h, w = x.shape[2:]
        x = torch.nn.functional.pad(x, (0, (-w) % m, 0, (-h) % m), mode="reflect")
        with torch.no_grad():
            y = net(x)[:, :, :h, :w]
        return ((y[0].permute(1, 2, 0) + 1) * 127.5).clamp(0, 255).byte().cpu().numpy()

    for f in frames[:3]:  # warm-up: the first calls pick and build kernels
        one(f)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for f in frames:
        one(f)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return len(frames) / (time.perf_counter() - start)


def engine_fps(loaded: LoadedGenerator, frames: list[np.ndarray], device: str,
               side: int | None) -> float:
    translator = Translator(loaded, EngineOptions(device=device, size=side))
    batch = 8 if translator.cuda else 1
    for _ in range(3):
        translator(frames[:batch])
    if translator.cuda:
        torch.cuda.synchronize()
    start = time.perf_counter()
    for i in range(0, len(frames), batch):
        translator(frames[i:i + batch])
    if translator.cuda:
        torch.cuda.synchronize()
    return len(frames) / (time.perf_counter() - start)


def file_fps(model: Path, source: Path, out: Path, device: str) -> tuple[float, float]:
    """(translate fps without start-up, transcode fps) on the same clip."""
    frames, seconds = transcode(source, out.with_name("transcode.mp4"), CRF, PRESET)
    report = translate(source, out, TranslateSettings(model=str(model), device=device,
                                                      crf=CRF, preset=PRESET))
    prepare = report.times.seconds.get("prepare", 0.0)
    return report.frames / (report.seconds - prepare), frames / seconds


def live_stage_ms(loaded: LoadedGenerator, frames: list[np.ndarray]) -> tuple[float, float]:
    """ms per frame of the style filter's two stages at the frames' size."""
    import av

    from apps.webrtc.filters import StyleFilter
    from apps.webrtc.styles import StyleCatalog
    from streamgan.safety.marking import OutputMark
    from streamgan.translate.session import TranslateSession

    translator = StyleCatalog([loaded]).translator(loaded.name)  # as serve runs it
    style = StyleFilter(TranslateSession(translator), OutputMark.new(None))
    video = [av.VideoFrame.from_ndarray(f, format="rgb24").reformat(format="yuv420p")
             for f in frames]
    track = render = 0.0
    for i, frame in enumerate(video):
        t0 = time.perf_counter()
        tracked = style.track(frame)
        t1 = time.perf_counter()
        style.render(tracked)
        t2 = time.perf_counter()
        if i:  # the first frame pays for set-up
            track += t1 - t0
            render += t2 - t1
    style.close()
    n = max(1, len(video) - 1)
    return 1000 * track / n, 1000 * render / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=48, help="frames per measurement")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads (default 1, as the streamgan command "
                        "runs: the file and live paths overlap the network with the rest "
                        "on another thread)")
    parser.add_argument("--skip-resnet-720p", action="store_true",
                        help="resnet_9blocks at 1280x720 takes seconds a frame on a CPU")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    gpu = torch.cuda.get_device_name() if args.device.startswith("cuda") else "no GPU"
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores "
          f"({args.threads} torch threads), {gpu}, torch {torch.__version__}; "
          f"x264 {PRESET} crf {CRF}")
    toon = resolve_model("toon")
    rng = np.random.default_rng(0)
    rows = []
    cases = [("toon", toon, 640, 480), ("toon", toon, 1280, 720),
             ("resnet_9blocks", resnet9(), 256, 256), ("resnet_9blocks", resnet9(), 1280, 720)]
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for name, loaded, w, h in cases:
            if name == "resnet_9blocks" and w == 1280 and args.skip_resnet_720p:
                continue
            n = args.frames if (name == "toon" or w == 256 or args.device != "cpu") else 3
            frames = [np.asarray(rng.integers(0, 256, (h, w, 3)), np.uint8) for _ in range(n)]
            side = int(loaded.extra["work_side"]) if loaded.extra.get("work_side") else None
            if side is not None:  # the naive loop runs at the same working size
                import cv2

                scale = side / max(w, h)
                small = [cv2.resize(f, (round(w * scale), round(h * scale)),
                                    interpolation=cv2.INTER_AREA) for f in frames]
            else:
                small = frames
            naive = naive_fps(loaded, small, args.device)
            engine = engine_fps(loaded, frames, args.device, side)
            model_file = work / f"{name}.pt"
            torch.save(to_checkpoint(loaded.spec, loaded.net.cpu(), loaded.extra), model_file)
            source = clip(work / f"clip_{w}x{h}.mp4", w, h, max(n, 8))
            file, plain = file_fps(model_file, source, work / "out.mp4", args.device)
            rows.append((name, f"{w}x{h}", side, naive, engine, file, plain))
        track, render = live_stage_ms(toon, [np.asarray(rng.integers(0, 256, (480, 640, 3)),
                                                        np.uint8) for _ in range(args.frames)])
    print()
    print("| model | frames | network sees | naive fps | engine fps | translate file fps "
          "| transcode fps | file / transcode |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, size, side, naive, engine, file, plain in rows:
        sees = f"long side {side}" if side else "full frame"
        print(f"| {name} | {size} | {sees} | {naive:.3g} | {engine:.3g} | {file:.3g} | "
              f"{plain:.1f} | {file / plain:.2g} |")
    print()
    print(f"live style filter at 640x480 ({args.device}): stage 1 (convert + network) "
          f"{track:.1f} ms, stage 2 (temporal + watermark) {render:.1f} ms; two threads: "
          f"{1000 / max(track, render):.1f} fps, one thread: {1000 / (track + render):.1f} fps")


if __name__ == "__main__":
    main()
