"""Every bad input: one clear line on stderr, a non-zero exit, no output file."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from streamgan.cli.main import main
from tests.conftest import SAMPLE_TRUST, SAMPLES, one_line_error

DRIVER = SAMPLES / "driver.mp4"
TARGET = SAMPLES / "target.png"


def _run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str]:
    code = main(["reenact", *map(str, argv), "--quiet", "--trust", str(SAMPLE_TRUST)])
    err = capsys.readouterr().err.strip()
    return code, err


def _assert_one_line_error(code: int, err: str, *needles: str) -> None:
    assert code == 1
    one_line_error(err, *needles)


def _no_output(out: Path) -> None:
    assert not out.exists()
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


def _write_video(path: Path, frames: list[np.ndarray], audio_only: bool = False) -> Path:
    with av.open(str(path), "w") as c:
        if audio_only:
            s = c.add_stream("aac", rate=48000)
            s.layout = "mono"
            samples = np.zeros((1, 48000), np.float32)
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = 48000
            frame.pts = 0
            for p in s.encode(frame):
                c.mux(p)
            for p in s.encode(None):
                c.mux(p)
            return path
        v = c.add_stream("libx264", rate=25)
        v.width, v.height, v.pix_fmt = frames[0].shape[1], frames[0].shape[0], "yuv420p"
        v.codec_context.time_base = Fraction(1, 25)
        for i, rgb in enumerate(frames):
            f = av.VideoFrame.from_ndarray(rgb, format="rgb24")
            f.pts = i
            for p in v.encode(f):
                c.mux(p)
        for p in v.encode(None):
            c.mux(p)
    return path


@pytest.fixture
def out(tmp_path: Path) -> Path:
    return tmp_path / "out.mp4"


def test_missing_driver(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    code, err = _run(capsys, tmp_path / "nope.mp4", TARGET, "-o", out)
    _assert_one_line_error(code, err, "nope.mp4")
    _no_output(out)


def test_missing_target(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    code, err = _run(capsys, DRIVER, tmp_path / "nope.png", "-o", out)
    _assert_one_line_error(code, err, "nope.png")
    _no_output(out)


def test_empty_driver(capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    empty = tmp_path / "empty.mp4"
    empty.write_bytes(b"")
    code, err = _run(capsys, empty, TARGET, "-o", out)
    _assert_one_line_error(code, err, "empty.mp4")
    _no_output(out)


def test_text_file_named_mp4(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                             out: Path) -> None:
    text = tmp_path / "notes.mp4"
    text.write_text("these are my notes, not a video\n" * 50)
    code, err = _run(capsys, text, TARGET, "-o", out)
    _assert_one_line_error(code, err, "notes.mp4")
    _no_output(out)


def test_file_without_video(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                            out: Path) -> None:
    song = _write_video(tmp_path / "song.m4a", [], audio_only=True)
    code, err = _run(capsys, song, TARGET, "-o", out)
    _assert_one_line_error(code, err, "song.m4a", "video")
    _no_output(out)


def test_truncated_driver_gives_shorter_output_or_clear_error(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, out: Path) -> None:
    data = DRIVER.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: len(data) // 2])
    code = main(["reenact", str(cut), str(TARGET), "-o", str(out), "--trust", str(SAMPLE_TRUST)])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if code == 0:
        with av.open(str(out)) as c:
            n = sum(1 for _ in c.decode(video=0))
        with av.open(str(DRIVER)) as c:
            full = sum(1 for _ in c.decode(video=0))
        assert 0 < n < full
        assert "warning" in err.lower()
    else:
        _assert_one_line_error(code, err.strip(), "cut.mp4")
        _no_output(out)


def test_target_without_face(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                             out: Path) -> None:
    blank = tmp_path / "wall.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(90, 110, (240, 320, 3), dtype=np.uint8)).save(blank)
    code, err = _run(capsys, DRIVER, blank, "-o", out)
    _assert_one_line_error(code, err, "wall.png", "no face")
    _no_output(out)


def test_driver_without_face(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                             out: Path) -> None:
    frames = [np.full((120, 160, 3), 40 + i, np.uint8) for i in range(10)]
    faceless = _write_video(tmp_path / "faceless.mp4", frames)
    code, err = _run(capsys, faceless, TARGET, "-o", out)
    _assert_one_line_error(code, err, "faceless.mp4", "no face")
    _no_output(out)


def test_unwritable_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where a directory should be")
    code, err = _run(capsys, DRIVER, TARGET, "-o", blocker / "out.mp4")
    _assert_one_line_error(code, err, "out.mp4")
    code, err = _run(capsys, DRIVER, TARGET, "-o", tmp_path / "missing" / "out.mp4")
    _assert_one_line_error(code, err, "out.mp4")


def test_output_may_not_overwrite_input(capsys: pytest.CaptureFixture[str],
                                        tmp_path: Path) -> None:
    copy = tmp_path / "driver.mp4"
    copy.write_bytes(DRIVER.read_bytes())
    before = copy.read_bytes()
    code, err = _run(capsys, copy, TARGET, "-o", copy)
    _assert_one_line_error(code, err, "overwrite")
    assert copy.read_bytes() == before


def test_unknown_output_extension(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, err = _run(capsys, DRIVER, TARGET, "-o", tmp_path / "out.gif")
    _assert_one_line_error(code, err, "out.gif")


def test_real_process_prints_one_line_and_debug_shows_traceback(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "streamgan", "reenact", str(tmp_path / "nope.mp4"),
           str(TARGET), "-o", str(tmp_path / "o.mp4")]
    plain = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert plain.returncode == 1
    assert plain.stderr.strip().count("\n") == 0 and "Traceback" not in plain.stderr
    debug = subprocess.run([*cmd, "--debug"], capture_output=True, text=True, timeout=120)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


def test_verify_unreadable_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for bad in (tmp_path / "missing.mp4", tmp_path / "notes.mp4"):
        if bad.name == "notes.mp4":
            bad.write_text("not a video\n" * 20)
        code = main(["verify", str(bad)])
        err = capsys.readouterr().err.strip()
        _assert_one_line_error(code, err, bad.name)


@pytest.mark.parametrize("size", [(1, 1), (8, 300)])
def test_verify_on_a_picture_too_small_for_a_watermark(tmp_path: Path, size: tuple[int, int],
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    path = tmp_path / "tiny.png"
    Image.new("RGB", size, (90, 90, 90)).save(path)
    assert main(["verify", str(path)]) == 1
    one_line_error(capsys.readouterr().err, "tiny.png", f"{size[0]}x{size[1]}", "at least 16x16")
