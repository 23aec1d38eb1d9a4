"""Watermark robustness: streamgan's watermark against invisible-watermark, in one run.

The same face frames (30 consecutive frames of ``samples/driver.mp4``, 640x360, and
the same frames upscaled to 1280x720), the same 64-bit payload, the same attacks:

- H.264 CRF 23, 30 and 35, H.265 CRF 28 (libx264/libx265, default preset medium),
  VP8 at 500 kbps (libvpx), all through PyAV, 30 frames at 25 fps;
- downscale to 50%, crop 10% off every border, brightness +20 and -20 (luma,
  saturating), JPEG quality 75 per frame (colour, OpenCV);
- the combinations a re-shared clip goes through (goals since issue 13): downscale
  to 50% then H.264 CRF 30, downscale to 50% then VP8 at 500 kbps, crop 10% then
  H.264 CRF 30; and two older ones not among the goals, crop then H.264 CRF 28,
  downscale then H.264 CRF 28.

Sizes are heights of 16:9 clips (``360``: the driver as it is, others resized) or
``WxH`` for square reenact-like clips, e.g. ``512x512``: the driver's centre square,
resized (a face filling most of the frame, as a square reenact output has).

Methods: ``streamgan`` (this repository, luma, 64 payload bits + MAC + ECC) and
invisible-watermark 0.2.0's ``dwtDct`` and ``dwtDctSvd`` (the watermark Stable
Diffusion uses; it marks chroma, 64 raw bits, no ECC). Every method's output is
yuv420p, as every streamgan output is; attacks start from those frames. Ours is
read blind; invisible-watermark cannot find a scale and refuses pictures under
256x256, so downscaled frames are scaled back to the marked size for it.

Columns, per method, size and attack:

- ``bits@N``: share of the 64 payload bits right after reading all N frames.
  streamgan: the detector's decoded payload bits (after ECC, summed over frames).
  invisible-watermark: a per-bit majority vote over the N frames' decodes.
- ``pre-ECC/frame``: streamgan: coded bits right before error correction;
  invisible-watermark: mean bit accuracy of single frames.
- ``exact``: the payload came out exactly from the N frames (streamgan: and the
  keyed MAC verified it, i.e. ``present``).
- ``first N``: fewest frames (of 1, 2, 4, 8, 15, 30, 60, 120, 225, up to N) that
  gave the exact payload: what ``verify``, which reads until it is sure, needs.

Then, per method: PSNR of the marked frames (luma, and RGB after yuv420p), the
largest change on a flat grey 720p frame, embedding time per 720p frame (median
over repeated frames; this 2-core machine is shared, so p90 is shown too), and
for streamgan false positives over >= 500 unmarked single frames and with wrong
keys. invisible-watermark has no presence decision (it always returns bits), so
false positives do not apply to it.

Run: ``python benchmarks/watermark_robustness.py [--frames 30] [--starts 0]
[--sizes 360,720,512x512] [--attacks NAME,...] [--no-baselines] [--fp-frames 510]``;
``--quick`` is the combined attacks only, on 512x512 and 256x256 (60 frames), ours
only, with short false-positive and timing runs (a few minutes on two cores).

invisible-watermark (the ``bench`` extra) must be installed *without* its
dependencies: ``pip install --no-deps invisible-watermark==0.2.0 PyWavelets``.
Its requirements would pull ``opencv-python`` (a second OpenCV that shadows
mediapipe's ``opencv-contrib-python``) and ``torch``, which it imports only for its
``rivaGan`` method; the benchmark puts an empty ``torch`` module in its place when
torch is missing, since ``rivaGan`` is never used.

Needs invisible-watermark, installed WITHOUT its dependencies (they pull
opencv-python, a second OpenCV that would shadow mediapipe's opencv-contrib-python,
and torch, only for a method not compared)::

    pip install --no-deps invisible-watermark==0.2.0 PyWavelets
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import sys
import time
import types
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import av
import cv2
import numpy as np
from av.video.stream import VideoStream
from numpy.typing import NDArray

from streamgan.media.yuv import planes
from streamgan.safety.watermark import (
    WatermarkDetector,
    WatermarkEmbedder,
    WatermarkKey,
    WatermarkPayload,
)

REPO = Path(__file__).resolve().parent.parent
DRIVER = REPO / "samples" / "driver.mp4"
CHECKPOINTS = (1, 2, 4, 8, 15, 30, 60, 120, 225)

Yuv = NDArray[np.uint8]
Attack = Callable[[list[Yuv]], list[Yuv]]


# -- frames and attacks ----------------------------------------------------------------


def load_frames(start: int, count: int, size: tuple[int, int] | None,
                square: bool = False) -> list[Yuv]:
    """``count`` driver frames from ``start`` as yuv420p, resized (bicubic) to ``size``;
    ``square``: the centre square of each frame first."""
    frames: list[Yuv] = []
    with av.open(str(DRIVER)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i < start:
                continue
            if square:
                side = min(frame.width, frame.height)
                rgb = frame.to_ndarray(format="rgb24")
                left, top = (frame.width - side) // 2, (frame.height - side) // 2
                frame = av.VideoFrame.from_ndarray(
                    np.ascontiguousarray(rgb[top:top + side, left:left + side]), format="rgb24")
            if size is not None:
                frame = frame.reformat(width=size[0], height=size[1], format="yuv420p",
                                       interpolation="BICUBIC")
            frames.append(np.asarray(frame.to_ndarray(format="yuv420p"), np.uint8))
            if len(frames) == count:
                break
    return frames


def join(y: NDArray[np.uint8], u: NDArray[np.uint8], v: NDArray[np.uint8]) -> Yuv:
    h, w = y.shape
    return np.concatenate([y, np.stack([u, v]).reshape(h // 2, w)])


def to_bgr(yuv: Yuv) -> NDArray[np.uint8]:
    return np.asarray(cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR_I420), np.uint8)


def from_bgr(bgr: NDArray[np.uint8]) -> Yuv:
    return np.asarray(cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2YUV_I420), np.uint8)


def luma(yuv: Yuv) -> NDArray[np.uint8]:
    return planes(yuv)[0]


def encode(frames: list[Yuv], codec: str, options: dict[str, object],
           bit_rate: int | None = None) -> list[Yuv]:
    """Encode and decode again in memory (30 frames at 25 fps)."""
    h, w = frames[0].shape[0] * 2 // 3, frames[0].shape[1]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="webm" if codec == "libvpx" else "mp4") as out:
        stream = out.add_stream(codec, rate=25)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if bit_rate:
            stream.bit_rate = bit_rate
        stream.options = options
        for i, f in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(f, format="yuv420p")
            picture.pts = i
            out.mux(stream.encode(picture))
        out.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer, "r") as decoded:
        return [np.asarray(f.to_ndarray(format="yuv420p"), np.uint8)
                for f in decoded.decode(video=0)]


def downscale(yuv: Yuv) -> Yuv:
    y, u, v = planes(yuv)
    h, w = y.shape
    area = cv2.INTER_AREA
    return join(cv2.resize(y, (w // 2, h // 2), interpolation=area),
                cv2.resize(u, (w // 4, h // 4), interpolation=area),
                cv2.resize(v, (w // 4, h // 4), interpolation=area))


def crop(yuv: Yuv, fraction: float = 0.1) -> Yuv:
    """Cut ``fraction`` of the width and height off every side (even offsets)."""
    y, u, v = planes(yuv)
    h, w = y.shape
    dx, dy = int(w * fraction) // 2 * 2, int(h * fraction) // 2 * 2
    return join(y[dy:h - dy, dx:w - dx], u[dy // 2:(h - dy) // 2, dx // 2:(w - dx) // 2],
                v[dy // 2:(h - dy) // 2, dx // 2:(w - dx) // 2])


def brightness(yuv: Yuv, delta: int) -> Yuv:
    out = yuv.copy()
    y = planes(out)[0]
    y[...] = cv2.add(y, delta) if delta > 0 else cv2.subtract(y, -delta)
    return out


def jpeg(yuv: Yuv, quality: int = 75) -> Yuv:
    ok, data = cv2.imencode(".jpg", to_bgr(yuv), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return from_bgr(cv2.imdecode(data, cv2.IMREAD_COLOR))


def h264(crf: int) -> Attack:
    return lambda frames: encode(frames, "libx264", {"crf": str(crf)})


def vp8(frames: list[Yuv]) -> list[Yuv]:
    return encode(frames, "libvpx", {"deadline": "good"}, 500_000)


ATTACKS: dict[str, Attack] = {
    "none": lambda frames: frames,
    "H.264 CRF 23": h264(23),
    "H.264 CRF 30": h264(30),
    "H.264 CRF 35": h264(35),
    "H.265 CRF 28": lambda frames: encode(frames, "libx265",
                                          {"crf": "28", "x265-params": "log-level=error"}),
    "VP8 500 kbps": lambda frames: vp8(frames),
    "downscale 50%": lambda frames: [downscale(f) for f in frames],
    "crop 10%": lambda frames: [crop(f) for f in frames],
    "brightness +20": lambda frames: [brightness(f, 20) for f in frames],
    "brightness -20": lambda frames: [brightness(f, -20) for f in frames],
    "JPEG q75": lambda frames: [jpeg(f) for f in frames],
    "down 50%+H.264 30": lambda frames: h264(30)([downscale(f) for f in frames]),
    "down 50%+VP8 500k": lambda frames: vp8([downscale(f) for f in frames]),
    "crop 10%+H.264 30": lambda frames: h264(30)([crop(f) for f in frames]),
    "crop+H.264 28*": lambda frames: h264(28)([crop(f) for f in frames]),
    "down+H.264 28*": lambda frames: h264(28)([downscale(f) for f in frames]),
}
COMBINED = ("down 50%+H.264 30", "down 50%+VP8 500k", "crop 10%+H.264 30")
"""The combined attacks among the goals (``--quick`` runs these)."""


# -- methods ---------------------------------------------------------------------------


@dataclass
class Outcome:
    bits: float
    """Payload bit accuracy after all frames."""
    second: float
    """streamgan: coded-bit accuracy before ECC; baselines: mean per-frame bit accuracy."""
    exact: bool
    first: int | None
    """Fewest checkpoint frames that gave the exact payload."""


class Method(Protocol):
    name: str

    def embed(self, frame: Yuv) -> Yuv: ...

    def read(self, frames: list[Yuv], size: tuple[int, int]) -> Outcome: ...

    def detect(self, frames: list[Yuv]) -> object: ...


class Ours:
    name = "streamgan"

    def __init__(self, key: WatermarkKey, payload: WatermarkPayload, w: int, h: int) -> None:
        self.key, self.payload = key, payload
        self.embedder = WatermarkEmbedder(key, payload, w, h)

    def embed(self, frame: Yuv) -> Yuv:
        out = frame.copy()
        self.embedder.embed(out)
        return out

    def read(self, frames: list[Yuv], size: tuple[int, int]) -> Outcome:
        """Blind: ``size`` (the marked frames' size) is not used."""
        detector = WatermarkDetector(self.key)
        first = None
        result = None
        for i, f in enumerate(frames, 1):
            detector.add_luma(luma(f))
            if i in CHECKPOINTS or i == len(frames):
                result = detector.result(self.payload)
                if first is None and result.present and result.payload == self.payload.hex:
                    first = i
        assert result is not None and result.bit_accuracy is not None
        assert result.raw_bit_accuracy is not None
        exact = result.present and result.payload == self.payload.hex
        return Outcome(result.bit_accuracy, result.raw_bit_accuracy, exact, first)

    def detect(self, frames: list[Yuv]) -> object:
        """One plain detection over all frames (what ``read ms`` times)."""
        detector = WatermarkDetector(self.key)
        for f in frames:
            detector.add_luma(luma(f))
        return detector.result()

    def wrong_key_present(self, frames: list[Yuv], key: WatermarkKey) -> bool:
        detector = WatermarkDetector(key)
        for f in frames:
            detector.add_luma(luma(f))
        return detector.result().present


class InvisibleWatermark:
    """invisible-watermark's encoder/decoder on BGR frames; our frames go through BGR."""

    def __init__(self, method: str, payload: WatermarkPayload) -> None:
        from imwatermark import WatermarkDecoder, WatermarkEncoder

        self.name = method
        self.method = method
        self.truth = payload.bits()
        self.encoder = WatermarkEncoder()
        self.encoder.set_watermark("bytes", payload.to_bytes())
        self.decoder = WatermarkDecoder("bytes", 64)

    def embed(self, frame: Yuv) -> Yuv:
        return from_bgr(self.encoder.encode(to_bgr(frame), self.method))

    def detect(self, frames: list[Yuv]) -> object:
        return [self.decoder.decode(to_bgr(f), self.method) for f in frames]

    def read(self, frames: list[Yuv], size: tuple[int, int]) -> Outcome:
        """Downscaled frames are scaled back to ``size`` first (the method cannot find a
        scale itself, and refuses pictures under 256x256): a head start ours lacks."""
        votes = np.zeros(64)
        per_frame: list[float] = []
        first = None
        vote_bits = np.zeros(64, np.uint8)
        for i, f in enumerate(frames, 1):
            bgr = to_bgr(f)
            if bgr.shape[1] * 2 == size[0] and bgr.shape[0] * 2 == size[1]:
                bgr = cv2.resize(bgr, size, interpolation=cv2.INTER_CUBIC)
            data = self.decoder.decode(bgr, self.method)
            bits = np.unpackbits(np.frombuffer(bytes(data), np.uint8))[:64]
            per_frame.append(float(np.mean(bits == self.truth)))
            votes += 2.0 * bits - 1.0
            vote_bits = (votes > 0).astype(np.uint8)
            if first is None and (i in CHECKPOINTS or i == len(frames)) and np.array_equal(
                    vote_bits, self.truth):
                first = i
        accuracy = float(np.mean(vote_bits == self.truth))
        return Outcome(accuracy, float(np.mean(per_frame)), accuracy == 1.0, first)


def load_baselines(payload: WatermarkPayload) -> tuple[list[InvisibleWatermark], str | None]:
    try:
        import torch  # noqa: F401
    except ImportError:
        sys.modules.setdefault("torch", types.ModuleType("torch"))  # only rivaGan uses it
    try:
        return [InvisibleWatermark(m, payload) for m in ("dwtDct", "dwtDctSvd")], None
    except Exception as e:  # the package missing, or broken by its dependencies
        return [], f"invisible-watermark unavailable: {type(e).__name__}: {e}"


# -- measurements ----------------------------------------------------------------------


def psnr(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return float("inf") if mse == 0 else 10 * float(np.log10(255**2 / mse))


def timed(fn: Callable[[], Any], repeat: int) -> NDArray[np.float64]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return np.asarray(out, np.float64) * 1000


def embed_ms_720p(method: Method, frames: list[Yuv], repeat: int) -> NDArray[np.float64]:
    if isinstance(method, Ours):
        embedder = method.embedder
        copies = [f.copy() for f in frames]
        embedder.embed(copies[0])  # warm up
        samples = []
        for i in range(repeat):
            f = copies[i % len(copies)]
            start = time.perf_counter()
            embedder.embed(f)
            samples.append(time.perf_counter() - start)
        return np.asarray(samples, np.float64) * 1000
    return timed(lambda: method.embed(frames[0]), repeat)


def flat_change(method: Method) -> tuple[int, int]:
    """Largest change in luma and in any RGB channel on a flat grey 720p frame."""
    flat = np.full((1080, 1280), 128, np.uint8)
    marked = method.embed(flat)
    dy = int(np.abs(luma(marked).astype(int) - 128).max())
    drgb = int(np.abs(to_bgr(marked).astype(int) - to_bgr(flat).astype(int)).max())
    return dy, drgb


def false_positives(key: WatermarkKey, count: int, sizes: list[str]) -> tuple[int, int, float]:
    """Single-frame detections on unmarked frames (driver, mirrored, 720p): hits, n, max conf."""
    pool: list[NDArray[np.uint8]] = []
    frames360 = load_frames(0, 225, None)
    pool += [luma(f) for f in frames360]
    pool += [np.ascontiguousarray(luma(f)[:, ::-1]) for f in frames360]
    if "720" in sizes:
        pool += [luma(f) for f in load_frames(0, 75, (1280, 720))]
    for size in sizes:
        if "x" in size:
            w, h = (int(v) for v in size.split("x"))
            pool += [luma(f) for f in load_frames(0, 40, (w, h), square=True)]
    order = np.random.default_rng(0).permutation(len(pool))  # every size, even when short
    pool = [pool[i] for i in order[:count]]
    hits, worst = 0, 0.0
    detector = WatermarkDetector(key)
    for y in pool:
        detector.reset()
        detector.add_luma(y)
        found = detector.result()
        hits += found.present
        worst = max(worst, found.confidence)
    return hits, len(pool), worst


# -- main ------------------------------------------------------------------------------


def clip_size(size: str) -> tuple[int, int, bool]:
    """``"360"`` -> 640x360 (16:9); ``"512x512"`` -> a square clip."""
    if "x" in size:
        w, h = (int(v) for v in size.split("x"))
        return w, h, True
    return int(size) * 16 // 9, int(size), False


def seeded(seed: int) -> tuple[WatermarkKey, WatermarkPayload]:
    """Seed 0 is the historical key and payload; others are fresh ones (several runs)."""
    if seed == 0:
        return (WatermarkKey.from_bytes(bytes.fromhex("5eed" * 16)),
                WatermarkPayload(output_id=0x5A17C0DE, consent=0x00C0FE))
    rng = np.random.default_rng(seed)
    return (WatermarkKey.from_bytes(rng.bytes(32)),
            WatermarkPayload(output_id=int(rng.integers(1 << 32)),
                             consent=int(rng.integers(1 << 24))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--starts", default="0", help="first driver frame of each clip")
    parser.add_argument("--sizes", default="360,720",
                        help="16:9 heights and/or WxH square clips, e.g. 360,720,512x512")
    parser.add_argument("--attacks", default="",
                        help="comma-separated attack names (default: all): "
                        + ", ".join(ATTACKS).replace("%", "%%"))
    parser.add_argument("--seeds", type=int, default=1,
                        help="keys and payloads per clip (runs); seed 0 is the usual one")
    parser.add_argument("--quick", action="store_true",
                        help="combined attacks on 512x512 and 256x256, 60 frames, 3 seeds, "
                        "ours only, short false-positive and timing runs")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--fp-frames", type=int, default=510)
    parser.add_argument("--timing-repeat", type=int, default=200)
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.frames, args.seeds = "512x512,256x256", 60, 3
        args.attacks = ",".join(("none", *COMBINED))
        args.no_baselines, args.fp_frames, args.timing_repeat = True, 120, 100
    cv2.setNumThreads(os.cpu_count() or 1)

    attacks = ({n: ATTACKS[n] for n in args.attacks.split(",")} if args.attacks else ATTACKS)
    key, payload = seeded(0)
    sizes = args.sizes.split(",")
    starts = [int(s) for s in args.starts.split(",")]
    baselines, note = ([], "baselines skipped") if args.no_baselines else load_baselines(payload)
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; payload {payload.hex}; {args.frames} frames per clip"
          f", {args.seeds} seed(s)")
    if note:
        print(f"# {note}")

    rows: list[tuple[str, str, str, Outcome]] = []
    quality: dict[str, list[tuple[float, float]]] = {}
    read_ms: dict[tuple[str, int], list[float]] = {}
    wrong_key_hits, wrong_key_tries = 0, 0
    other_key = WatermarkKey.from_bytes(bytes.fromhex("0bad" * 16))
    frames720: list[Yuv] = []
    for size in sizes:
        width, height, square = clip_size(size)
        for start in starts:
            frames = load_frames(start, args.frames,
                                 None if (width, height) == (640, 360) else (width, height),
                                 square=square)
            if (width, height) == (1280, 720) and not frames720:
                frames720 = frames
            for seed in range(args.seeds):
                seed_key, seed_payload = seeded(seed)
                methods: list[Method] = [Ours(seed_key, seed_payload, width, height)]
                if seed == 0:
                    methods += baselines
                for method in methods:
                    marked = [method.embed(f) for f in frames]
                    quality.setdefault(method.name, []).extend(
                        (psnr(luma(a), luma(b)), psnr(to_bgr(a), to_bgr(b)))
                        for a, b in zip(frames, marked, strict=True))
                    clip = f"{width}x{height}@{start}" + (f" s{seed}" if args.seeds > 1 else "")
                    for name, attack in attacks.items():
                        attacked = attack(marked)
                        outcome = method.read(attacked, (width, height))
                        if name == "none":
                            t0 = time.perf_counter()
                            method.detect(attacked)
                            read_ms.setdefault((method.name, height), []).append(
                                (time.perf_counter() - t0) * 1000)
                        rows.append((method.name, clip, name, outcome))
                        if isinstance(method, Ours):
                            wrong_key_tries += 1
                            wrong_key_hits += method.wrong_key_present(attacked, other_key)
                        print(f"  {method.name:10s} {clip} {name:17s} bits {outcome.bits:.3f} "
                              f"exact {outcome.exact} first {outcome.first}", file=sys.stderr,
                              flush=True)

    print()
    print("| method | clip | attack | bits@N | pre-ECC/frame | exact | first N |")
    print("| --- | --- | --- | ---: | ---: | :---: | ---: |")
    for method_name, clip, attack_name, o in rows:
        print(f"| {method_name} | {clip} | {attack_name} | {o.bits:.3f} | {o.second:.3f} | "
              f"{'yes' if o.exact else 'no'} | {o.first or '-'} |")
    print("\n(* not among the goals)\n")
    for name in (n for n in COMBINED if n in attacks):
        for size in sizes:
            width, height, _ = clip_size(size)
            got = [o for m, c, a, o in rows
                   if m == "streamgan" and a == name and c.startswith(f"{width}x{height}@")]
            firsts = [o.first for o in got if o.first]
            print(f"streamgan {name} at {width}x{height}: exact in {sum(o.exact for o in got)}"
                  f" of {len(got)} clips; frames needed "
                  f"{'/'.join(str(f) for f in firsts) if firsts else '-'}")
    print()

    print("| method | PSNR Y dB (min) | PSNR RGB dB (min) | flat grey max change Y / RGB | "
          "embed ms per 720p frame median (p90) | read ms, N frames, 360p / 720p |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    ours_720 = Ours(key, payload, 1280, 720)
    timing_frames = frames720 or load_frames(0, 30, (1280, 720))
    summary: list[Method] = [ours_720, *baselines]
    for method in summary:
        q = np.array(quality[method.name])
        dy, drgb = flat_change(method)
        repeat = args.timing_repeat if isinstance(method, Ours) else 5
        ms = embed_ms_720p(method, timing_frames, repeat)
        reads = " / ".join(f"{np.median(read_ms.get((method.name, s), [np.nan])):.0f}"
                           for s in (360, 720))
        print(f"| {method.name} | {q[:, 0].mean():.1f} ({q[:, 0].min():.1f}) | "
              f"{q[:, 1].mean():.1f} ({q[:, 1].min():.1f}) | {dy} / {drgb} | "
              f"{np.median(ms):.2f} ({np.percentile(ms, 90):.2f}) | {reads} |")

    hits, n, worst = false_positives(key, args.fp_frames, sizes)
    print(f"\nstreamgan false positives: {hits} of {n} unmarked single frames "
          f"(highest confidence {worst:.3f}); wrong key on marked clips: "
          f"{wrong_key_hits} of {wrong_key_tries} present.")
    print("invisible-watermark: no presence decision (it always returns 64 bits), "
          "so false positives do not apply.")
    print(f"# load average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
