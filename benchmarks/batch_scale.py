"""What the batch runner costs and gains: jobs per minute against a plain loop.

The same reenact jobs (cuts of the sample driver onto the sample target) run three
ways in one run: a plain sequential loop calling the library's ``reenact`` (the
baseline), ``streamgan batch`` on 1 worker, and on 2 workers, each with Ray and with
local processes. Batch figures count everything a user waits for: starting Ray or
the processes, every job, the report. The overhead at 1 worker is the batch's time
over the loop's.

Run Ray benchmarks in a network namespace with only loopback, as the tests do:

    unshare -n sh -c 'ip link set lo up && .venv/bin/python benchmarks/batch_scale.py'
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.conftest import SAMPLE_TRUST, SAMPLES, cut_video  # noqa: E402

log = logging.getLogger("batch_scale")


def make_jobs(folder: Path, count: int, frames: int) -> Path:
    driver = cut_video(SAMPLES / "driver.mp4", folder / "driver.mp4", frames)
    lines = [json.dumps({"job": "reenact", "driver": str(driver),
                         "target": str(SAMPLES / "target.png"), "output": f"o{i}.mp4",
                         "options": {"audio": False}}) for i in range(count)]
    jobs = folder / "jobs.jsonl"
    jobs.write_text("\n".join(lines) + "\n")
    return jobs


LOOP = """
import sys, time
t0 = time.perf_counter()
from pathlib import Path
from streamgan.pipeline.reenact import ReenactSettings, reenact
folder, count, trust, target = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
settings = ReenactSettings(trust=(trust,), audio=False)
t1 = time.perf_counter()
for i in range(count):
    reenact(folder / "driver.mp4", Path(target), folder / "loop" / f"o{i}.mp4", settings)
print(t1 - t0, time.perf_counter() - t1)
"""


def plain_loop(folder: Path, count: int) -> tuple[float, float]:
    """The baseline: a script calling the library's reenact, one job after another.
    Returns (total seconds with its start-up, seconds of the jobs alone)."""
    (folder / "loop").mkdir()
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", LOOP, str(folder), str(count),
                           str(SAMPLE_TRUST), str(SAMPLES / "target.png")],
                          capture_output=True, text=True, check=True)
    total = time.perf_counter() - started
    return total, float(done.stdout.split()[1])


def batch(jobs: Path, out: Path, workers: int, ray: bool) -> tuple[float, float]:
    """Total seconds of ``streamgan batch``, and the sum of its jobs' own seconds."""
    command = [sys.executable, "-m", "streamgan", "batch", str(jobs), "-o", str(out),
               "--workers", str(workers), "--trust", str(SAMPLE_TRUST), "--quiet"]
    if not ray:
        command.append("--no-ray")
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"batch failed: {done.stderr.strip()}")
    rows = [json.loads(line) for line in (out / "batch-report.jsonl").read_text().splitlines()]
    return seconds, sum(r["seconds"] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=8)
    parser.add_argument("--frames", type=int, default=100, help="frames per job")
    parser.add_argument("--backends", nargs="+", default=["ray", "processes"],
                        choices=["ray", "processes"])
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        jobs = make_jobs(folder, args.jobs, args.frames)
        loop, loop_jobs = plain_loop(folder, args.jobs)
        log.info("machine: %s, %d cores, Python %s", platform.machine(), os.cpu_count(),
                 platform.python_version())
        log.info("%d reenact jobs of %d frames (640x360 driver, sample target)", args.jobs,
                 args.frames)
        log.info("plain loop (a script calling reenact()): %.1f s, %.1f jobs/min; "
                 "start-up %.1f s, %.2f s a job", loop, 60 * args.jobs / loop,
                 loop - loop_jobs, loop_jobs / args.jobs)
        for backend in args.backends:
            for workers in (1, 2):
                seconds, busy = batch(jobs, folder / f"{backend}-{workers}", workers,
                                      backend == "ray")
                line = (f"batch on {backend}, {workers} worker{'s' if workers > 1 else ''}: "
                        f"{seconds:.1f} s, {60 * args.jobs / seconds:.1f} jobs/min, "
                        f"{loop / seconds:.2f}x the loop's throughput")
                if workers == 1:
                    # One worker runs the jobs back to back: what is not job time is the
                    # runner's fixed cost (start, pool, shutdown) plus per-job gaps.
                    fixed = seconds - busy
                    line += (f"; overhead {100 * (seconds / loop - 1):+.0f} % in all: "
                             f"{fixed - (loop - loop_jobs):.1f} s more start-up than the "
                             f"loop, jobs {100 * (busy / loop_jobs - 1):+.0f} %")
                log.info("%s", line)


if __name__ == "__main__":
    main()
