"""End-to-end latency and delivered frame rate of ``streamgan serve``, per filter.

An aiortc client in this process sends the sample driver at 640x480, 30 fps, to the
server (also in this process, on 127.0.0.1) and times every frame that comes back:
from the moment the client's track hands the frame to its encoder to the moment the
returned frame is decoded, so it includes both encoders, both decoders, the network
stack and the face work. ``none`` and ``reenact`` run one after the other in one run;
``style`` (a translation model, ``--style``) when asked.

Frames are identified two ways:
- the server keeps each frame's pts and aiortc's receivers only subtract a constant,
  so returned pts minus sent pts is one constant per connection; sent pts carry a
  small per-frame jitter pattern, and the constant is the one under which the
  first returned frames all land on sent pts. This works for every filter.
- a 16-bit block code drawn in the top-left corner (on the letterbox bar, away
  from the face) is read back where the picture passes through (``none``), as a
  cross-check of the first.

Growth compares the median latency of the first and last minute (or thirds, for
runs shorter than three minutes): a queue building up shows as growth.

Run: ``python benchmarks/webrtc_latency.py [--seconds 120] [--filters none reenact style]``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import fractions
import logging
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import av
import numpy as np
from aiohttp import web
from aiortc import MediaStreamTrack, VideoStreamTrack
from aiortc.mediastreams import MediaStreamError
from numpy.typing import NDArray

from apps.webrtc import TargetCatalog, create_app, load_catalog
from apps.webrtc.client import connect
from apps.webrtc.ice import use_loopback_candidates
from apps.webrtc.styles import StyleCatalog, load_styles

log = logging.getLogger("webrtc_latency")

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
SAMPLE_TRUST = SAMPLES / "consent" / "sample-signer.trust.json"
WIDTH, HEIGHT, FPS = 640, 480, 30
TIME_BASE = fractions.Fraction(1, 90000)
STEP = 90000 // FPS
JITTER = 300
"""pts jitter range (90 kHz ticks, 3.3 ms): enough pattern to find the pts offset."""
BITS, BLOCK, MARGIN = 16, 12, 4
CALIBRATE = 8
TOLERANCE = 6
"""pts come back a few ticks off (time base round trips inside aiortc)."""
"""Returned frames that must all land on sent pts for an offset to be taken."""


def jitter(n: int) -> int:
    return (n * 7919 + (n * n) % 113) % JITTER


def pts_of(n: int) -> int:
    return n * STEP + jitter(n)


def draw_code(y: NDArray[np.uint8], n: int) -> None:
    """Frame number ``n`` as 16 black/white blocks, two rows of eight."""
    for bit in range(BITS):
        row, col = divmod(bit, 8)
        top, left = MARGIN + row * BLOCK, MARGIN + col * BLOCK
        y[top:top + BLOCK, left:left + BLOCK] = 235 if (n >> bit) & 1 else 16


def read_code(y: NDArray[np.uint8]) -> int:
    n = 0
    for bit in range(BITS):
        row, col = divmod(bit, 8)
        top, left = MARGIN + row * BLOCK + 3, MARGIN + col * BLOCK + 3
        if float(y[top:top + BLOCK - 6, left:left + BLOCK - 6].mean()) > 125:
            n |= 1 << bit
    return n


def driver_pictures(count: int = 150) -> list[NDArray[np.uint8]]:
    """The sample driver letterboxed to 640x480, as yuv420p arrays."""
    pictures = []
    with av.open(str(SAMPLES / "driver.mp4")) as container:
        for frame in container.decode(video=0):
            scaled = frame.reformat(width=WIDTH, height=WIDTH * frame.height // frame.width,
                                    format="rgb24").to_ndarray()
            canvas = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
            top = (HEIGHT - scaled.shape[0]) // 2
            canvas[top:top + scaled.shape[0]] = scaled
            yuv = av.VideoFrame.from_ndarray(canvas, format="rgb24").reformat(
                format="yuv420p").to_ndarray()
            pictures.append(np.ascontiguousarray(yuv, np.uint8))
            if len(pictures) == count:
                break
    return pictures


class CodedTrack(VideoStreamTrack):
    """The driver at 30 fps, each frame numbered in its pts and its pixels."""

    def __init__(self, pictures: list[NDArray[np.uint8]]) -> None:
        super().__init__()
        self.pictures = pictures
        self.sent: dict[int, float] = {}
        """pts -> monotonic time handed to the encoder."""
        self.order: list[int] = []
        """The sent pts, ascending."""
        self.count = 0
        self._began: float | None = None

    async def recv(self) -> av.VideoFrame:
        now = time.monotonic()
        if self._began is None:
            self._began = now
        due = self._began + self.count / FPS
        if due > now:
            await asyncio.sleep(due - now)
        n = self.count
        yuv = self.pictures[n % len(self.pictures)].copy()
        draw_code(yuv, n)
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts, frame.time_base = pts_of(n), TIME_BASE
        self.sent[frame.pts] = time.monotonic()
        self.order.append(frame.pts)
        self.count += 1
        return frame


@dataclass
class Result:
    name: str
    seconds: float
    sent: int = 0
    received: int = 0
    latencies: list[tuple[float, float]] = field(default_factory=list)
    """(seconds since the run started, latency ms) per matched returned frame."""
    code_latencies: list[float] = field(default_factory=list)
    unmatched: int = 0
    server: dict[str, float] = field(default_factory=dict)


def nearest(pts: int, sent: list[int]) -> int | None:
    """The sent pts within TOLERANCE of ``pts`` (``sent`` is ascending)."""
    i = bisect.bisect_left(sent, pts - TOLERANCE)
    if i < len(sent) and abs(sent[i] - pts) <= TOLERANCE:
        return sent[i]
    return None


def find_offset(returned: list[int], sent: list[int]) -> int | None:
    """The constant with ``returned[i] - constant`` a sent pts for every i."""
    for candidate in sent:
        offset = returned[0] - candidate
        if all(nearest(r - offset, sent) is not None for r in returned[1:]):
            return offset
    return None


async def measure(base_url: str, name: str, target: str | None, seconds: float,
                  pictures: list[NDArray[np.uint8]], style: str | None = None) -> Result:
    source = CodedTrack(pictures)
    conn = await connect(base_url, source, name, target, style)
    result = Result(name, seconds)
    try:
        track: MediaStreamTrack = await asyncio.wait_for(conn.returned, 20)
        first = await asyncio.wait_for(track.recv(), 20)  # ICE failures are silent
        pending: list[tuple[int, float, int | None]] = []
        offset: int | None = None
        began = time.monotonic()
        sent_before = source.count
        del first
        while time.monotonic() - began < seconds:
            try:
                frame = await asyncio.wait_for(track.recv(), 10)
            except MediaStreamError:
                break
            arrived = time.monotonic()
            assert isinstance(frame, av.VideoFrame) and frame.pts is not None
            result.received += 1
            code = None
            if name == "none":
                code = read_code(np.asarray(frame.to_ndarray(format="yuv420p"), np.uint8))
            pending.append((frame.pts, arrived, code))
            if offset is None:
                if len(pending) < CALIBRATE:
                    continue
                offset = find_offset([p for p, _, _ in pending], source.order)
                if offset is None:
                    pending.pop(0)
                    continue
            for pts, when, code in pending:
                match = nearest(pts - offset, source.order)
                if match is None:
                    result.unmatched += 1
                    continue
                result.latencies.append((when - began, (when - source.sent[match]) * 1000))
                if code is not None:
                    code_pts = pts_of(code)
                    # the code holds n mod 65536; fine for runs under 36 minutes
                    if code_pts in source.sent:
                        result.code_latencies.append((when - source.sent[code_pts]) * 1000)
            pending.clear()
        result.seconds = time.monotonic() - began
        result.sent = source.count - sent_before
        async with aiohttp.ClientSession() as session, \
                session.get(f"{base_url}stats", params={"peer": conn.peer}) as response:
            result.server = await response.json()
    finally:
        await conn.close()
    return result


def summary(r: Result) -> str:
    lat = np.array([ms for _, ms in r.latencies]) if r.latencies else np.zeros(1)
    times = np.array([t for t, _ in r.latencies]) if r.latencies else np.zeros(1)
    window = min(60.0, r.seconds / 3)
    early = lat[times < window]
    late = lat[times >= r.seconds - window]
    growth = (float(np.median(late)) - float(np.median(early))
              if early.size and late.size else float("nan"))
    line = (f"{r.name:8s} delivered {r.received / r.seconds:5.1f} fps "
            f"(sent {r.sent / r.seconds:4.1f}); latency p50 {np.percentile(lat, 50):6.1f} ms, "
            f"p95 {np.percentile(lat, 95):6.1f} ms; growth first->last {window:.0f} s: "
            f"{growth:+.1f} ms; server dropped {r.server.get('frames_dropped', '?')}, "
            f"worker {r.server.get('process_ms', float('nan')):.1f} ms/frame (last; track "
            f"{r.server.get('track_ms', float('nan')):.1f}, render "
            f"{r.server.get('render_ms', float('nan')):.1f}); "
            f"frames without a face {r.server.get('frames_without_face', '?')}; "
            f"unmatched {r.unmatched}")
    if r.code_latencies:
        code = np.array(r.code_latencies)
        line += (f"; pixel-code check p50 {np.percentile(code, 50):.1f} ms "
                 f"({code.size} frames)")
    return line


async def run(seconds: float, filters: list[str], catalog: TargetCatalog,
              styles: StyleCatalog | None = None) -> list[Result]:
    runner = web.AppRunner(create_app(catalog, styles), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    pictures = driver_pictures()
    results = []
    try:
        for name in filters:
            target = catalog.names[0] if name == "reenact" else None
            style = styles.names[0] if name == "style" and styles is not None else None
            log.info("%s: %.0f s", name, seconds)
            results.append(await measure(f"http://127.0.0.1:{port}/", name, target, seconds,
                                         pictures, style))
    finally:
        await runner.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0, help="per filter (default 120)")
    parser.add_argument("--filters", nargs="+", default=["none", "reenact"],
                        choices=["none", "reenact", "style"])
    parser.add_argument("--style", default="toon",
                        help="translation model for the style filter (default: toon)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    use_loopback_candidates()  # client and server in this process talk over 127.0.0.1
    for noisy in ("aioice", "aiortc", "streamgan", "apps"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    catalog = load_catalog([SAMPLES / "target.png"], [SAMPLE_TRUST])
    styles = None
    if "style" in args.filters:
        import torch

        # As under `streamgan serve`, whose import of streamgan sets OMP_NUM_THREADS=1
        # before numpy loads (here numpy came first): a second intra-op thread only
        # spins against the codecs and the other stage on two cores.
        torch.set_num_threads(1)
        styles = load_styles([args.style])
    results = asyncio.run(run(args.seconds, args.filters, catalog, styles))
    log.info("%s, %s cores, Python %s, %dx%d @ %d fps sent", platform.processor() or
             platform.machine(), os.cpu_count(), platform.python_version(), WIDTH, HEIGHT, FPS)
    for result in results:
        log.info("%s", summary(result))


if __name__ == "__main__":
    main()
