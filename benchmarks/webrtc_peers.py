"""``streamgan serve`` with N peers at once, and with offers whose client never connects.

The server runs as its own process (``python -m streamgan serve`` on 127.0.0.1), so
its CPU, memory, threads and file descriptors are read apart from the clients'
(from ``/proc``). The clients are aiortc peers in this process, each sending the
sample driver (640x360) at ``--fps`` over loopback and counting the frames that come
back, per second, after a warm-up.

- ``--peers 1 2 4``: for each count, that many peers stream at once for
  ``--seconds``; per peer: frames received per second (mean and the slowest second)
  and what the server dropped; for the server: CPU (% of one core), RSS, threads.
- ``--stale 20``: that many offers are answered but never connected (the client never
  applies the answer), sent as fast as the server takes them; the server's RSS,
  threads and fds before, with them waiting, and after they expired. Offers over the
  caps get 503s, which are counted (``--stale-cap N`` raises both caps to N to see
  what N waiting offers hold).

Run: ``python benchmarks/webrtc_peers.py --peers 1 2 --seconds 30 --stale 20``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError

from apps.webrtc.client import LoopTrack, connect, video_offer_sdp
from apps.webrtc.ice import use_loopback_candidates

log = logging.getLogger("webrtc_peers")

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
WARMUP_S = 5.0
TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    """One reading of the server process."""

    at: float
    cpu_s: float
    rss_mb: float
    threads: int
    fds: int


def usage(pid: int) -> Usage:
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)
    return Usage(time.monotonic(), cpu, int(status["VmRSS"].split()[0]) / 1024,
                 int(status["Threads"]), len(os.listdir(f"/proc/{pid}/fd")))


def cpu_percent(first: Usage, last: Usage) -> float:
    return 100.0 * (last.cpu_s - first.cpu_s) / max(1e-9, last.at - first.at)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(port: int, options: list[str]) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "streamgan", "serve", "--quiet", "--port", str(port),
               "--target", str(SAMPLES / "target.png"),
               "--trust", str(SAMPLES / "consent" / "sample-signer.trust.json"), *options]
    return subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


async def wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            if server.poll() is not None:
                raise RuntimeError(f"streamgan serve exited with {server.returncode}")
            try:
                async with session.get(url + "targets") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError("streamgan serve did not start")


def driver_frames(count: int = 50) -> list[av.VideoFrame]:
    frames = []
    with av.open(str(SAMPLES / "driver.mp4")) as container:
        for frame in container.decode(video=0):
            frames.append(frame.reformat(format="yuv420p"))
            if len(frames) == count:
                break
    return frames


async def count_frames(track: MediaStreamTrack, seconds: float) -> list[int]:
    """Frames received in each whole second of the window after the warm-up."""
    began = time.monotonic()
    per_second = [0] * int(WARMUP_S + seconds)
    while (elapsed := time.monotonic() - began) < WARMUP_S + seconds:
        try:
            await asyncio.wait_for(track.recv(), 10)
        except (MediaStreamError, TimeoutError):
            break
        second = int(elapsed)
        if second < len(per_second):
            per_second[second] += 1
    return per_second[int(WARMUP_S):]


async def stream(url: str, frames: list[av.VideoFrame], fps: float, seconds: float,
                 filter_name: str) -> tuple[list[int], dict[str, float]]:
    conn = await connect(url, LoopTrack(frames, fps), filter_name,
                         "target" if filter_name == "reenact" else None)
    try:
        track = await asyncio.wait_for(conn.returned, 20)
        await asyncio.wait_for(track.recv(), 20)
        counts = await count_frames(track, seconds)
        async with aiohttp.ClientSession() as session, \
                session.get(url + "stats", params={"peer": conn.peer}) as response:
            stats: dict[str, float] = await response.json()
    finally:
        await conn.close()
    return counts, stats


async def peers_run(url: str, pid: int, n: int, fps: float, seconds: float,
                    filter_name: str) -> None:
    frames = driver_frames()
    tasks = [asyncio.ensure_future(stream(url, frames, fps, seconds, filter_name))
             for _ in range(n)]
    await asyncio.sleep(WARMUP_S + 2.0)  # connected and warmed up
    first, client_first = usage(pid), usage(os.getpid())
    await asyncio.sleep(seconds - 3.0)
    last, client_last = usage(pid), usage(os.getpid())
    results = await asyncio.gather(*tasks)
    log.info("%d peer(s), %s at %g fps, %.0f s: server CPU %.0f %% of a core, RSS %.0f MB, "
             "%d threads; the clients (this process) %.0f %%", n, filter_name, fps, seconds,
             cpu_percent(first, last), last.rss_mb, last.threads,
             cpu_percent(client_first, client_last))
    for i, (counts, stats) in enumerate(results):
        mean = sum(counts) / max(1, len(counts))
        log.info("  peer %d: %.1f fps (slowest second %d, fastest %d); server: received "
                 "%d, sent %d, dropped %d", i + 1, mean, min(counts, default=0),
                 max(counts, default=0), stats.get("frames_received", -1),
                 stats.get("frames_sent", -1), stats.get("frames_dropped", -1))


async def stale_run(url: str, pid: int, count: int, timeout_s: float) -> None:
    body = json.dumps({"sdp": await video_offer_sdp(), "type": "offer", "filter": "reenact"})
    statuses: dict[int, int] = {}
    await asyncio.sleep(1.0)
    before = usage(pid)
    peak = before
    async with aiohttp.ClientSession() as session:
        began = time.monotonic()
        for _ in range(count):
            async with session.post(url + "offer", data=body,
                                    headers={"Content-Type": "application/json"}) as response:
                statuses[response.status] = statuses.get(response.status, 0) + 1
            now = usage(pid)
            peak = now if now.rss_mb > peak.rss_mb else peak
        sent_s = time.monotonic() - began
    await asyncio.sleep(timeout_s + 3.0)
    after = usage(pid)
    log.info("%d never-connected offers in %.1f s: answers %s", count, sent_s,
             ", ".join(f"{n} x {status}" for status, n in sorted(statuses.items())))
    log.info("  server before: RSS %.0f MB, %d threads, %d fds", before.rss_mb,
             before.threads, before.fds)
    log.info("  at the peak:   RSS %.0f MB, %d threads, %d fds", peak.rss_mb, peak.threads,
             peak.fds)
    log.info("  %.0f s after:   RSS %.0f MB, %d threads, %d fds", timeout_s + 3.0,
             after.rss_mb, after.threads, after.fds)


async def main_async(args: argparse.Namespace) -> None:
    use_loopback_candidates()
    for n in args.peers:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        server = start_server(port, ["--max-peers", str(max(n, 1))])
        try:
            await wait_ready(url, server)
            await peers_run(url, server.pid, n, args.fps, args.seconds, args.filter)
        finally:
            server.terminate()
            server.wait(timeout=30)
    if args.stale:
        port = free_port()
        url = f"http://127.0.0.1:{port}/"
        caps = ([] if args.stale_cap is None else
                ["--max-peers", str(args.stale_cap), "--max-pending", str(args.stale_cap)])
        server = start_server(port, ["--connect-timeout", str(args.connect_timeout), *caps])
        try:
            await wait_ready(url, server)
            await stale_run(url, server.pid, args.stale, args.connect_timeout)
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=int, nargs="*", default=[1, 2])
    parser.add_argument("--fps", type=float, default=24.0, help="sent per peer (default 24)")
    parser.add_argument("--seconds", type=float, default=30.0,
                        help="measured per run, after a 5 s warm-up (default 30)")
    parser.add_argument("--filter", default="reenact", choices=["none", "reenact"])
    parser.add_argument("--stale", type=int, default=0, metavar="N",
                        help="also send N offers that never connect (default 0)")
    parser.add_argument("--connect-timeout", type=int, default=15)
    parser.add_argument("--stale-cap", type=int, default=None, metavar="N",
                        help="--max-peers and --max-pending for the --stale run "
                        "(default: serve's defaults)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("aioice", "aiortc", "apps"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    log.info("%s, %s cores, Python %s", platform.processor() or platform.machine(),
             os.cpu_count(), platform.python_version())
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
