"""Damaged drivers, full disks and long names through the real command.

Disk-full cases run the command in a private mount namespace on a tmpfs of a chosen
size (``unshare -m``, root only; skipped elsewhere), sized to fill up while encoding
and, separately, while the signed copy is written.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from tests.conftest import SAMPLE_TRUST, SAMPLES, one_line_error

DRIVER = SAMPLES / "driver.mp4"
TARGET = SAMPLES / "target.png"


def _reenact(driver: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "streamgan", "reenact", str(driver),
                           str(TARGET), "-o", str(out), "--trust", str(SAMPLE_TRUST), *extra],
                          capture_output=True, text=True, timeout=300)


def _streams(video: Path) -> dict[str, tuple[int, float]]:
    """Frames (or packets) and duration in seconds of each stream."""
    with av.open(str(video)) as c:
        found = {}
        for s in c.streams:
            packets = [p for p in c.demux(s) if p.size]
            end = max(float((p.pts + (p.duration or 0)) * p.time_base) for p in packets)
            found[s.type] = (len(packets), end)
            c.seek(0)
    return found


@pytest.fixture(scope="module")
def damaged_driver(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample driver with 8 KB of its middle overwritten (a bad sector, a corrupt
    download): the container is intact, the pictures there are not."""
    data = bytearray(DRIVER.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 8000] = np.random.default_rng(0).integers(0, 256, 8000,
                                                                   np.uint8).tobytes()
    path = tmp_path_factory.mktemp("damaged") / "damaged.mp4"
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_driver_loses_only_the_damaged_frames(damaged_driver: Path,
                                                        tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    done = _reenact(damaged_driver, out)
    assert done.returncode == 0, done.stderr
    assert "frames lost to damaged input:" in done.stderr
    original, result = _streams(DRIVER), _streams(out)
    frames, video_end = result["video"]
    assert 0.8 * original["video"][0] <= frames < original["video"][0]  # was: cut at half
    assert video_end == pytest.approx(original["video"][1], abs=0.1)
    assert result["audio"][1] == pytest.approx(original["audio"][1], abs=0.1)  # audio whole


def test_a_long_output_name_works(tmp_path: Path) -> None:
    name = "r" * 245 + ".mp4"  # 249 bytes: the old temp name added 41 and failed
    done = _reenact(DRIVER, tmp_path / name, "--quiet")
    assert done.returncode == 0, done.stderr
    assert os.listdir(tmp_path) == [name]


def _can_mount() -> bool:
    if shutil.which("unshare") is None or os.geteuid() != 0:
        return False
    probe = subprocess.run(["unshare", "-m", "sh", "-c", "mount -t tmpfs none /mnt"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(not _can_mount(), reason="needs root and unshare -m")


def _on_small_disk(tmp_path: Path, size: int) -> tuple[int, str, list[str]]:
    """Run reenact with its output on a tmpfs of ``size`` bytes; what is left there."""
    disk = tmp_path / "disk"
    disk.mkdir()
    script = (f'mount -t tmpfs -o size={size} tmpfs "$1" || exit 99; '
              f'"$2" -m streamgan reenact "$3" "$4" -o "$1/o.mp4" --trust "$5" --quiet; '
              'rc=$?; ls -A "$1" >&2; exit $rc')
    done = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(disk),
                           sys.executable, str(DRIVER), str(TARGET), str(SAMPLE_TRUST)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode != 99, done.stderr
    lines = done.stderr.strip().splitlines()
    error = [line for line in lines if line.startswith("streamgan")]
    left = [line for line in lines if not line.startswith("streamgan")]
    return done.returncode, "\n".join(error), left


@pytest.fixture(scope="module")
def signed_size(tmp_path_factory: pytest.TempPathFactory) -> int:
    out = tmp_path_factory.mktemp("full") / "o.mp4"
    assert _reenact(DRIVER, out, "--quiet").returncode == 0
    return out.stat().st_size


@needs_mount
def test_disk_full_while_encoding(tmp_path: Path, signed_size: int) -> None:
    code, error, left = _on_small_disk(tmp_path, signed_size // 3)
    assert code == 1
    line = one_line_error(error, "o.mp4: cannot write")
    assert ".sgtmp" not in line  # the user's output is named, not the temp file
    assert left == []


@needs_mount
def test_disk_full_while_signing(tmp_path: Path, signed_size: int) -> None:
    # Room for the finished unsigned video but not for its signed copy beside it.
    code, error, left = _on_small_disk(tmp_path, signed_size * 3 // 2)
    assert code == 1
    line = one_line_error(error, "o.mp4: cannot write", "space")
    assert ".sgtmp" not in line
    assert left == []
