"""Small real jobs for batch tests: short cuts of the sample driver, the sample target."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from streamgan.media.atomic import TEMP_PREFIX, temp_key
from tests.conftest import SAMPLE_TRUST, SAMPLES, cut_video


@pytest.fixture(scope="session")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with short drivers (d8, d10, d12 frames) and a long one (long: 120)."""
    folder = tmp_path_factory.mktemp("clips")
    for frames in (8, 10, 12):
        cut_video(SAMPLES / "driver.mp4", folder / f"d{frames}.mp4", frames)
    cut_video(SAMPLES / "driver.mp4", folder / "long.mp4", 120)
    (folder / "t.png").write_bytes((SAMPLES / "target.png").read_bytes())
    (folder / "broken.mp4").write_bytes(b"not a video at all")
    return folder


def write_jobs(folder: Path, jobs: list[dict[str, Any]]) -> Path:
    path = folder / "jobs.jsonl"
    path.write_text("".join(json.dumps(j) + "\n" for j in jobs))
    return path


def reenact_job(driver: str, output: str) -> dict[str, Any]:
    return {"job": "reenact", "driver": driver, "target": "t.png", "output": output,
            "options": {"audio": False}}


def batch_command(jobs: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "streamgan", "batch", str(jobs), "-o", str(out),
            "--trust", str(SAMPLE_TRUST), *extra]


def report(out: Path) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in (out / "batch-report.jsonl").read_text().splitlines()]
    return {row["id"]: row for row in rows}


def wait_for_worker(out: Path, output_name: str, proc: subprocess.Popen[str],
                    timeout: float = 180) -> int:
    """The pid of the process writing ``output_name`` (from its temp file's name), a
    moment after it started encoding (the encoder's temp file exists)."""
    key = temp_key(out / output_name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the batch ended before its worker could be killed"
        found = [p for p in out.glob(f"{TEMP_PREFIX}{key}-*")
                 if not p.name.endswith(".unsigned.mp4")]
        if found:
            time.sleep(0.5)  # mid-job: frames are being rendered and encoded
            assert proc.poll() is None
            return int(found[0].name.split("-")[2])
        time.sleep(0.02)
    raise AssertionError(f"no worker started on {output_name}")


def kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stray_files(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*") if p.name.startswith("."))
