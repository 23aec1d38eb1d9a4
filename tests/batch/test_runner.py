"""The batch runner on local processes (no Ray): failures, a killed worker, resume.

The same scenarios on Ray are in ``test_ray.py``; the job code is the same.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import pytest

from streamgan.batch.worker import DONE, FAILED, NOT_RUN, SKIPPED, output_verifies
from streamgan.cli.main import main
from tests.batch.conftest import (
    batch_command,
    kill,
    reenact_job,
    report,
    stray_files,
    wait_for_worker,
    write_jobs,
)
from tests.conftest import SAMPLE_TRUST


def test_a_bad_job_is_reported_and_the_batch_goes_on(clips: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    jobs = write_jobs(clips, [reenact_job("d8.mp4", "a.mp4"),
                              reenact_job("broken.mp4", "bad.mp4"),
                              {"job": "translate", "input": "d10.mp4", "output": "toon.mp4"}])
    out = tmp_path / "out"
    code = main(["batch", str(jobs), "-o", str(out), "--no-ray", "--workers", "2",
                 "--trust", str(SAMPLE_TRUST)])
    assert code == 1
    assert "2 done, 1 failed" in capsys.readouterr().err
    assert "job 2 failed: " in caplog.text
    rows = report(out)
    assert [rows[i]["status"] for i in ("1", "2", "3")] == [DONE, FAILED, DONE]
    assert "broken.mp4" in rows["2"]["error"]
    assert rows["1"]["frames"] == 8 and rows["1"]["consent_record"]
    assert output_verifies(out / "a.mp4", "reenact") and output_verifies(out / "toon.mp4",
                                                                         "translate")
    assert sorted(p.name for p in out.iterdir()) == ["a.mp4", "batch-report.jsonl", "toon.mp4"]


def test_a_killed_worker_s_job_is_retried(clips: Path, tmp_path: Path) -> None:
    jobs = write_jobs(clips, [reenact_job("long.mp4", "long.mp4"),
                              reenact_job("d8.mp4", "short.mp4")])
    out = tmp_path / "out"
    proc = subprocess.Popen(batch_command(jobs, out, "--no-ray", "--workers", "1",
                                          "--retries", "1"), stderr=subprocess.PIPE, text=True)
    kill(wait_for_worker(out, "long.mp4", proc))
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err
    rows = report(out)
    assert rows["1"]["status"] == DONE and rows["2"]["status"] == DONE
    assert output_verifies(out / "long.mp4", "reenact")
    assert stray_files(out) == []  # the killed run's temp files were cleaned up


def test_ctrl_c_stops_cleanly_and_resume_does_only_the_rest(clips: Path, tmp_path: Path) -> None:
    jobs = write_jobs(clips, [reenact_job("d8.mp4", "first.mp4"),
                              reenact_job("long.mp4", "second.mp4"),
                              reenact_job("d10.mp4", "third.mp4")])
    out = tmp_path / "out"
    proc = subprocess.Popen(batch_command(jobs, out, "--no-ray", "--workers", "1"),
                            stderr=subprocess.PIPE, text=True)
    wait_for_worker(out, "second.mp4", proc)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert err.strip().splitlines()[-1] == "streamgan: interrupted"
    rows = report(out)
    assert rows["1"]["status"] == DONE
    assert rows["2"]["status"] == NOT_RUN and rows["3"]["status"] == NOT_RUN
    assert stray_files(out) == [] and not (out / "second.mp4").exists()

    first_made = (out / "first.mp4").stat().st_mtime_ns
    time.sleep(0.01)
    done = subprocess.run(batch_command(jobs, out, "--no-ray", "--workers", "1", "--resume"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    rows = report(out)
    assert [rows[i]["status"] for i in ("1", "2", "3")] == [SKIPPED, DONE, DONE]
    assert (out / "first.mp4").stat().st_mtime_ns == first_made  # not redone
