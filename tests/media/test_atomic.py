from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from streamgan.errors import OutputError
from streamgan.media import atomic_output
from streamgan.media.atomic import TEMP_PREFIX, is_temp_name, temp_key


def test_success_leaves_only_the_output(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    with atomic_output(target) as temp:
        assert temp.parent == tmp_path
        assert temp.name.startswith(".sgtmp-") and temp.suffix == ".mp4"
        assert not target.exists()
        temp.write_bytes(b"done")
    assert target.read_bytes() == b"done"
    assert os.listdir(tmp_path) == ["out.mp4"]


def test_suffix_override(tmp_path: Path) -> None:
    with atomic_output(tmp_path / "out", suffix=".png") as temp:
        assert temp.suffix == ".png"
        temp.write_bytes(b"x")
    assert (tmp_path / "out").read_bytes() == b"x"


def test_failure_removes_the_temp_file_and_keeps_the_old_output(tmp_path: Path) -> None:
    target = tmp_path / "out.mp4"
    target.write_bytes(b"old")
    with pytest.raises(ValueError):
        with atomic_output(target) as temp:
            temp.write_bytes(b"half")
            raise ValueError("crash")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.mp4"]


def test_interrupt_is_handled_like_any_failure(tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(tmp_path / "out.mp4") as temp:
            temp.write_bytes(b"half")
            raise KeyboardInterrupt
    assert os.listdir(tmp_path) == []


def test_permissions_follow_the_umask_not_mkstemp(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        with atomic_output(tmp_path / "out.txt") as temp:
            temp.write_text("x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "out.txt").stat().st_mode) == 0o644


def test_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="directory does not exist"):
        with atomic_output(tmp_path / "nope" / "out.mp4"):
            pass


def test_parent_is_a_file(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is not a directory"):
        with atomic_output(tmp_path / "file" / "out.mp4"):
            pass


def test_target_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "out.mp4").mkdir()
    with pytest.raises(OutputError, match=r"out\.mp4: cannot write: it is a directory"):
        with atomic_output(tmp_path / "out.mp4"):
            pass


def test_temp_file_creation_failure_is_an_output_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(os, "open", refuse)
    with pytest.raises(OutputError, match="cannot write: Permission denied"):
        with atomic_output(tmp_path / "out.mp4"):
            pass


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temp_files_of_a_killed_run_are_removed(tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    out = tmp_path / "out.mp4"
    key = temp_key(out)
    stale = tmp_path / f"{TEMP_PREFIX}{key}-{_dead_pid()}-a1b2c3.unsigned.mp4"
    live = tmp_path / f"{TEMP_PREFIX}{key}-{os.getppid()}-d4e5f6.mp4"  # a running process
    other = tmp_path / f"{TEMP_PREFIX}{temp_key(tmp_path / 'other.mp4')}-{_dead_pid()}-0a0b0c.mp4"
    for p in (stale, live, other):
        p.write_bytes(b"half")
    with atomic_output(out) as temp:
        temp.write_bytes(b"done")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["out.mp4", live.name, other.name])
    assert "removed 1 temporary file left by an interrupted run" in caplog.text


@pytest.mark.parametrize("length", [215, 249, 255])
def test_any_legal_name_works_and_the_temp_name_stays_short(tmp_path: Path, length: int) -> None:
    name = "é" * ((length - 4) // 2) + "x" * ((length - 4) % 2) + ".mp4"
    assert len(os.fsencode(name)) == length
    out = tmp_path / name
    with atomic_output(out) as temp:
        assert len(os.fsencode(temp.name)) <= 48
        assert is_temp_name(temp.name) and temp_key(temp) == temp_key(out)
        temp.write_bytes(b"done")
    assert out.read_bytes() == b"done"
    assert os.listdir(tmp_path) == [name]
