"""Fuzzing the command line's inputs: generated files of random sizes, formats and damage.

Every case must keep the contract: exit 0 with a valid output file, or a non-zero
exit with exactly one line on stderr and nothing left behind. Each case is a real
process (a native crash or a traceback is a failure, not a lost test run). The cases
come from a fixed seed, so a failure replays; ``STREAMGAN_FUZZ_SEED`` and
``STREAMGAN_FUZZ_CASES`` explore further.
"""

from __future__ import annotations

import io
import os
import random
import subprocess
import sys
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from tests.conftest import SAMPLE_TRUST, SAMPLES

SEED = int(os.environ.get("STREAMGAN_FUZZ_SEED", "2026"))
CASES = int(os.environ.get("STREAMGAN_FUZZ_CASES", "14"))

IMAGE_FORMATS = ("png", "jpeg", "gif", "bmp", "tiff", "webp")
VIDEO_FORMATS = (("mp4", "libx264", "yuv420p"), ("mkv", "libx264", "yuv444p"),
                 ("webm", "libvpx", "yuv420p"), ("avi", "mjpeg", "yuvj420p"),
                 ("mov", "libx264", "yuv420p"))
DAMAGE = ("none", "none", "truncate", "overwrite", "header", "empty", "noise")


@dataclass(frozen=True)
class Case:
    """One generated input and the command it is fed to."""

    seed: int
    command: str  # "driver", "target", "verify", "translate"
    kind: str  # an image or video format
    width: int
    height: int
    frames: int
    damage: str

    @property
    def suffix(self) -> str:
        return "." + self.kind

    def __str__(self) -> str:
        return (f"{self.command}-{self.kind}-{self.width}x{self.height}-{self.frames}f-"
                f"{self.damage}-{self.seed}")


def _cases() -> list[Case]:
    rng = random.Random(SEED)
    cases = []
    for i in range(CASES):
        command = ("driver", "target", "verify", "translate")[i % 4]
        image = command == "target" or (command == "verify" and rng.random() < 0.5)
        kind = rng.choice(IMAGE_FORMATS) if image else rng.choice(VIDEO_FORMATS)[0]
        side = rng.choice([1, 2, 7, 16, 33, 64, 150, 321])
        other = max(1, int(side * rng.choice([0.02, 0.5, 1.0, 1.7, 9.0])))
        frames = 1 if image else rng.choice([1, 2, 5, 12])
        cases.append(Case(seed=rng.randrange(1 << 30), command=command, kind=kind,
                          width=side, height=other, frames=frames, damage=rng.choice(DAMAGE)))
    return cases


def _pixels(rng: np.random.Generator, width: int, height: int, t: int) -> np.ndarray:
    """Noise over a moving gradient: something for codecs to chew on, no face."""
    y, x = np.mgrid[0:height, 0:width]
    base = ((x * 3 + y * 2 + t * 9) % 256).astype(np.uint8)
    noise = rng.integers(0, 60, (height, width, 3), dtype=np.uint8)
    return np.ascontiguousarray(np.stack([base, base[::-1], base.T[:height, :width]
                                          if width == height else base], -1) // 2 + noise)


def _video_bytes(case: Case, rng: np.random.Generator) -> bytes:
    _, codec, pix_fmt = next(v for v in VIDEO_FORMATS if v[0] == case.kind)
    width, height = case.width, case.height
    if pix_fmt.endswith("420p"):  # these encoders need even sides
        width, height = max(2, width + width % 2), max(2, height + height % 2)
    buffer = io.BytesIO()
    with av.open(buffer, "w", format={"mkv": "matroska", "mov": "mov"}.get(case.kind,
                                                                            case.kind)) as c:
        stream = c.add_stream(codec, rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        stream.codec_context.time_base = Fraction(1, 10)
        for t in range(case.frames):
            frame = av.VideoFrame.from_ndarray(_pixels(rng, width, height, t), format="rgb24")
            frame.pts = t
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    return buffer.getvalue()


def _image_bytes(case: Case, rng: np.random.Generator) -> bytes:
    picture = Image.fromarray(_pixels(rng, case.width, case.height, 0))
    if case.kind == "gif":
        picture = picture.convert("P")
    buffer = io.BytesIO()
    picture.save(buffer, format=case.kind.upper())
    return buffer.getvalue()


def make_input(case: Case, folder: Path) -> Path:
    rng = np.random.default_rng(case.seed)
    data = bytearray()
    if case.damage != "empty":
        try:
            made = (_image_bytes(case, rng) if case.kind in IMAGE_FORMATS
                    else _video_bytes(case, rng))
        except (ValueError, OSError, av.error.FFmpegError):  # a size a format refuses
            made = rng.integers(0, 256, 2000, dtype=np.uint8).tobytes()
        data = bytearray(made)
    if case.damage == "truncate" and len(data) > 8:
        del data[int(len(data) * rng.uniform(0.2, 0.9)):]
    elif case.damage == "overwrite" and len(data) > 64:
        start = int(rng.integers(len(data) // 4, len(data) - 16))
        span = int(min(len(data) - start, rng.integers(16, 4096)))
        data[start:start + span] = rng.integers(0, 256, span, dtype=np.uint8).tobytes()
    elif case.damage == "header" and len(data) > 64:
        for at in rng.integers(0, 64, 6):
            data[int(at)] ^= 0xFF
    elif case.damage == "noise":
        data = bytearray(rng.integers(0, 256, int(rng.integers(1, 50_000)), dtype=np.uint8)
                         .tobytes())
    path = folder / f"input{case.suffix}"
    path.write_bytes(bytes(data))
    return path


def _argv(case: Case, given: Path, out_dir: Path) -> tuple[list[str], Path | None]:
    trust = ["--trust", str(SAMPLE_TRUST)]
    if case.command == "driver":
        out = out_dir / "o.mp4"
        return ["reenact", str(given), str(SAMPLES / "target.png"), "-o", str(out), *trust], out
    if case.command == "target":
        out = out_dir / "o.mp4"
        return ["reenact", str(SAMPLES / "driver.mp4"), str(given), "-o", str(out), *trust], out
    if case.command == "translate":
        out = out_dir / "o.mp4"
        return ["translate", str(given), "-o", str(out)], out
    return ["verify", str(given)], None


def _valid_video(path: Path) -> bool:
    try:
        with av.open(str(path)) as c:
            return any(True for _ in c.decode(video=0))
    except (av.error.FFmpegError, StopIteration):
        return False


@pytest.mark.slow
@pytest.mark.parametrize("case", _cases(), ids=str)
def test_every_input_keeps_the_contract(case: Case, tmp_path: Path) -> None:
    inputs, outputs = tmp_path / "in", tmp_path / "out"
    inputs.mkdir()
    outputs.mkdir()
    given = make_input(case, inputs)
    before = given.read_bytes()
    argv, out = _argv(case, given, outputs)
    done = subprocess.run([sys.executable, "-m", "streamgan", *argv, "--quiet"],
                          capture_output=True, text=True, timeout=240)
    lines = done.stderr.strip().splitlines()
    assert given.read_bytes() == before, "the input was modified"
    left = sorted(p.name for p in outputs.iterdir())
    if done.returncode == 0:
        assert out is None or (left == [out.name] and _valid_video(out)), (left, done.stderr)
    else:
        assert done.returncode == 1, done.stderr
        assert len(lines) == 1 and lines[0].startswith("streamgan: error: "), done.stderr
        assert left == [], left
