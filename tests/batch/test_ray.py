"""The batch on a local Ray: 2 workers, 6 jobs, one bad input, one worker killed mid-job.

Ray runs inside a network namespace with only loopback (``unshare -n``, root): its
processes probe cloud metadata addresses and listen on all interfaces, and a test
must reach nothing. Skipped without Ray or without ``unshare``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from streamgan.batch.backends import ray_available
from streamgan.batch.worker import DONE, FAILED, output_verifies
from tests.batch.conftest import (
    batch_command,
    kill,
    reenact_job,
    report,
    stray_files,
    wait_for_worker,
    write_jobs,
)


def _can_isolate() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True,
                          timeout=30).returncode == 0


pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not ray_available(), reason="Ray is not installed"),
              pytest.mark.skipif(not _can_isolate(), reason="needs root and unshare -n")]


def _ray_processes() -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if any(name in command for name in ("raylet", "gcs_server", "ray::", "ray/dashboard")):
            found.append(f"{proc.name}: {command[:80]}")
    return found


def test_ray_batch_survives_a_bad_input_and_a_killed_worker(clips: Path, tmp_path: Path) -> None:
    assert _ray_processes() == [], "another Ray is running here"
    jobs = write_jobs(clips, [
        reenact_job("d8.mp4", "a.mp4"), reenact_job("long.mp4", "killed.mp4"),
        reenact_job("broken.mp4", "bad.mp4"), reenact_job("d10.mp4", "b.mp4"),
        {"job": "translate", "input": "d12.mp4", "output": "toon.mp4"},
        reenact_job("d12.mp4", "c.mp4"),
    ])
    out = tmp_path / "out"
    command = " ".join(f"'{part}'" for part in batch_command(jobs, out, "--workers", "2"))
    proc = subprocess.Popen(["unshare", "-n", "sh", "-c", f"ip link set lo up && exec {command}"],
                            stderr=subprocess.PIPE, text=True)
    try:
        kill(wait_for_worker(out, "killed.mp4", proc, timeout=240))
        _, err = proc.communicate(timeout=400)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 1, err  # one job failed
    rows = report(out)
    assert rows["3"]["status"] == FAILED and "broken.mp4" in rows["3"]["error"]
    for job, name in (("1", "a.mp4"), ("2", "killed.mp4"), ("4", "b.mp4"), ("5", "toon.mp4"),
                      ("6", "c.mp4")):
        assert rows[job]["status"] == DONE, rows[job]
        assert output_verifies(out / name, rows[job]["kind"]), name
    assert rows["2"]["frames"] == 120  # the killed job ran again, whole
    assert stray_files(out) == []
    assert _ray_processes() == [], "Ray left processes behind"
    assert "1 failed" in err and "Traceback" not in err
