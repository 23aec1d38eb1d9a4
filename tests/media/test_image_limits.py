"""Images too small for their use, or too large to decode safely, are one line, early.

The huge case is a real 13000x13000 16-bit PNG of a few hundred KB (what a hostile
upload or a scanner's blank page looks like): it is refused from its header, before
a pixel is decoded, in a child process whose peak memory is measured.
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from streamgan.cli.main import main
from streamgan.errors import InputError
from streamgan.media import read_image
from streamgan.media.image import MAX_PIXELS_ENV
from tests.conftest import SAMPLES, one_line_error

DRIVER = SAMPLES / "driver.mp4"


def _chunk(kind: bytes, body: bytes) -> bytes:
    return (struct.pack(">I", len(body)) + kind + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))


def huge_png(path: Path, side: int = 13000) -> Path:
    """A valid 16-bit gray PNG of side x side black pixels, streamed (never in memory)."""
    z = zlib.compressobj(9)
    row = b"\0" * (1 + 2 * side)  # filter byte + 16-bit samples
    parts = [z.compress(row) for _ in range(side)]
    data = b"".join(parts) + z.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 16, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", data)
                     + _chunk(b"IEND", b""))
    return path


@pytest.fixture(scope="module")
def huge(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return huge_png(tmp_path_factory.mktemp("huge") / "huge.png")


_CHILD = """
import json, sys
from streamgan.errors import InputError
from streamgan.media import read_image
try:
    read_image(sys.argv[1])
    outcome = "decoded"
except InputError as e:
    outcome = str(e)
# VmHWM: this process image's own peak (ru_maxrss would carry the forking parent's).
peak = next(int(line.split()[1]) for line in open("/proc/self/status")
            if line.startswith("VmHWM:"))
print(json.dumps({"outcome": outcome, "peak_mb": peak / 1024}))
"""


def test_a_huge_png_is_refused_from_its_header(huge: Path) -> None:
    assert huge.stat().st_size < 1_000_000
    done = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", _CHILD, str(huge)],
                          capture_output=True, text=True, timeout=120, check=True)
    result = json.loads(done.stdout)
    assert "13000x13000" in result["outcome"] and MAX_PIXELS_ENV in result["outcome"]
    assert result["peak_mb"] < 400, result  # the decode alone would be 338 MB, 4.7 GB peak
    assert done.stderr == ""  # no raw DecompressionBombWarning


def test_the_cli_says_so_in_one_line(huge: Path, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["reenact", str(DRIVER), str(huge), "-o", str(tmp_path / "o.mp4")])
    assert code == 1
    one_line_error(capsys.readouterr().err, "huge.png", "MP", MAX_PIXELS_ENV)


def test_the_limit_can_be_raised(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big.png"
    Image.fromarray(np.zeros((1500, 1000, 3), np.uint8)).save(path)
    monkeypatch.setenv(MAX_PIXELS_ENV, "1_000_000")
    with pytest.raises(InputError, match="1000x1500"):
        read_image(path)
    monkeypatch.setenv(MAX_PIXELS_ENV, "2e6")
    assert read_image(path, max_side=4000).shape == (1500, 1000, 3)
    monkeypatch.setenv(MAX_PIXELS_ENV, "lots")
    with pytest.raises(InputError, match="not a number"):
        read_image(path)


@pytest.mark.parametrize("size", [(1, 1), (1920, 2), (2, 1920), (31, 400)])
def test_a_target_too_small_for_a_face_is_one_line(tmp_path: Path, size: tuple[int, int],
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tiny.png"
    Image.new("RGB", size, (200, 150, 120)).save(path)
    code = main(["reenact", str(DRIVER), str(path), "-o", str(tmp_path / "o.mp4")])
    assert code == 1
    one_line_error(capsys.readouterr().err, "tiny.png", f"{size[0]}x{size[1]}", "at least 32x32")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny.png"]


def test_consent_grant_on_a_tiny_image_is_one_line(tmp_path: Path, test_signer: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "tiny.png"
    Image.new("RGB", (1, 1)).save(path)
    key = test_signer.with_suffix(".key")
    code = main(["consent", "grant", str(path), "--key", str(key), "--subject", "x",
                 "--scope", "reenact"])
    assert code == 1
    one_line_error(capsys.readouterr().err, "1x1", "at least 32x32")
