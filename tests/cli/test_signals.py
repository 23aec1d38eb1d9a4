"""SIGINT, SIGTERM and SIGHUP at any moment: one line, 128 + the signal, no file left.

The start-up and mid-run cases are real processes signalled from outside, as `kill`,
a closing terminal or a scheduler would; the signing case runs in this process and
raises the signal at the exact moment the signed copy is opened (an audit hook),
since signing takes milliseconds and no timer could hit it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from streamgan.cli.main import main
from streamgan.media.atomic import TEMP_PREFIX, is_temp_name
from tests.conftest import SAMPLE_TRUST, SAMPLES

DRIVER = SAMPLES / "driver.mp4"
TARGET = SAMPLES / "target.png"
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _reenact_args(out: Path) -> list[str]:
    return ["reenact", str(DRIVER), str(TARGET), "-o", str(out), "--trust", str(SAMPLE_TRUST),
            "--quiet"]


def _from_a_terminal() -> None:
    """In the child: SIGHUP as a terminal session leaves it (the suite itself may run
    under ``nohup``, whose ignored SIGHUP streamgan rightly keeps)."""
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _start(out: Path) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "streamgan", *_reenact_args(out)],
                            stderr=subprocess.PIPE, text=True, preexec_fn=_from_a_terminal)


def _stop(proc: subprocess.Popen[str], sig: int) -> tuple[int, str]:
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def _assert_clean_stop(code: int, err: str, sig: int, out_dir: Path) -> None:
    assert code == 128 + sig, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("streamgan: interrupted"), err
    if sig != signal.SIGINT:
        assert signal.Signals(sig).name in lines[0]
    assert list(out_dir.iterdir()) == [], "a file was left behind"


def _wait_for_frames(out_dir: Path, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    """Until the encoder has written something into its temp file (frames are flowing)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the run ended before it could be interrupted"
        for p in out_dir.iterdir():
            if p.name.startswith(TEMP_PREFIX) and p.stat().st_size > 4096:
                return
        time.sleep(0.02)
    raise AssertionError("no frames were encoded in time")


def _wait_for_imports(proc: subprocess.Popen[str], timeout: float = 30) -> None:
    """Until the command's own imports are under way (numpy is mapped): earlier, the
    interpreter itself is still starting, before any program's code can run."""
    deadline = time.monotonic() + timeout
    maps = Path(f"/proc/{proc.pid}/maps")
    while time.monotonic() < deadline:
        try:
            if "numpy" in maps.read_text():
                return
        except OSError:
            pass
        time.sleep(0.005)
    raise AssertionError("the command never started importing")


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_signal_while_modules_load(tmp_path: Path, sig: int) -> None:
    proc = _start(tmp_path / "o.mp4")
    _wait_for_imports(proc)
    code, err = _stop(proc, sig)
    _assert_clean_stop(code, err, sig, tmp_path)


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_signal_while_preparing(tmp_path: Path, sig: int) -> None:
    proc = _start(tmp_path / "o.mp4")
    time.sleep(2.5)  # imports done, target, consent and engine under way (or frames)
    code, err = _stop(proc, sig)
    _assert_clean_stop(code, err, sig, tmp_path)


@pytest.mark.parametrize("sig", SIGNALS, ids=lambda s: signal.Signals(s).name)
def test_signal_mid_frames_removes_every_temp_file(tmp_path: Path, sig: int) -> None:
    proc = _start(tmp_path / "o.mp4")
    _wait_for_frames(tmp_path, proc)
    code, err = _stop(proc, sig)
    _assert_clean_stop(code, err, sig, tmp_path)


def test_a_previous_output_survives_an_interrupted_overwrite(tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    out.write_bytes(b"the previous, good output")
    proc = _start(out)
    _wait_for_frames(tmp_path, proc)
    code, _ = _stop(proc, signal.SIGTERM)
    assert code == 128 + signal.SIGTERM
    assert [p.name for p in tmp_path.iterdir()] == ["o.mp4"]
    assert out.read_bytes() == b"the previous, good output"


class _SignalWhenOpened:
    """An audit hook that raises ``sig`` in this process when a matching file is opened.

    Audit hooks cannot be removed, so it disarms itself after firing once.
    """

    def __init__(self, sig: int, wanted: Any) -> None:
        self.sig, self.wanted, self.fired = sig, wanted, False
        sys.addaudithook(self)

    def __call__(self, event: str, args: tuple[Any, ...]) -> None:
        if self.fired or event != "open" or not isinstance(args[0], str | os.PathLike):
            return
        if self.wanted(Path(args[0]), args[1]):
            self.fired = True
            signal.raise_signal(self.sig)


def _is_signed_copy(path: Path, mode: Any) -> bool:
    """The signed copy: the output's temp file, opened for writing by the C2PA signer."""
    return is_temp_name(path.name) and ".unsigned" not in path.name \
        and mode in ("w+", "w+b")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP],
                         ids=lambda s: signal.Signals(s).name)
def test_signal_while_signing(tmp_path: Path, sig: int,
                              capsys: pytest.CaptureFixture[str]) -> None:
    hook = _SignalWhenOpened(sig, _is_signed_copy)
    before = signal.signal(sig, signal.SIG_DFL)  # as from a terminal, even under nohup
    try:
        code = main(_reenact_args(tmp_path / "o.mp4"))
        assert hook.fired, "the signer never opened the signed copy"
        err = capsys.readouterr().err
        _assert_clean_stop(code, err, sig, tmp_path)
        assert signal.getsignal(sig) is signal.SIG_DFL, "the handler was not put back"
    finally:
        signal.signal(sig, before)


def test_a_signal_the_process_ignores_stays_ignored(tmp_path: Path) -> None:
    """Started under ``nohup`` (SIGHUP ignored), a hang-up does not stop the job: the
    output is written and SIGHUP is still ignored afterwards."""
    hook = _SignalWhenOpened(signal.SIGHUP, _is_signed_copy)
    before = signal.signal(signal.SIGHUP, signal.SIG_IGN)
    try:
        code = main(_reenact_args(tmp_path / "o.mp4"))
        assert hook.fired
        assert code == 0 and (tmp_path / "o.mp4").is_file()
        assert signal.getsignal(signal.SIGHUP) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGHUP, before)
