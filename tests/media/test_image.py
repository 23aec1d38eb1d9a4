from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image

from streamgan.errors import InputError, OutputError
from streamgan.media import read_image, write_image


def pattern(width: int, height: int) -> npt.NDArray[np.uint8]:
    """RGB test card: red top-left quadrant, green top-right, blue bottom-left, gray rest."""
    img = np.full((height, width, 3), 128, np.uint8)
    img[: height // 2, : width // 2] = (255, 0, 0)
    img[: height // 2, width // 2 :] = (0, 255, 0)
    img[height // 2 :, : width // 2] = (0, 0, 255)
    return img


def quadrants(img: npt.NDArray[np.uint8]) -> list[tuple[int, ...]]:
    h, w = img.shape[:2]
    cells = [
        img[: h // 2, : w // 2],
        img[: h // 2, w // 2 :],
        img[h // 2 :, : w // 2],
        img[h // 2 :, w // 2 :],
    ]
    return [tuple(int(v) for v in np.median(c.reshape(-1, 3), axis=0)) for c in cells]


def check(img: npt.NDArray[np.uint8], shape: tuple[int, int]) -> None:
    assert img.dtype == np.uint8 and img.shape == (*shape, 3) and img.flags.c_contiguous


def test_rgb_png_round_trip(tmp_path: Path) -> None:
    rgb = pattern(64, 48)
    write_image(tmp_path / "a.png", rgb)
    out = read_image(tmp_path / "a.png")
    check(out, (48, 64))
    assert np.array_equal(out, rgb)
    assert os.listdir(tmp_path) == ["a.png"]


def test_rgba_is_composited_onto_white(tmp_path: Path) -> None:
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[:, :10] = (200, 10, 10, 255)  # opaque red
    rgba[:, 10:] = (0, 0, 0, 0)  # transparent black: must not come out black
    Image.fromarray(rgba).save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    check(out, (20, 20))
    assert tuple(out[5, 2]) == (200, 10, 10)
    assert tuple(out[5, 15]) == (255, 255, 255)


def test_half_transparent_la(tmp_path: Path) -> None:
    la = np.zeros((10, 10, 2), np.uint8)
    la[..., 0], la[..., 1] = 0, 128  # black at 50% alpha
    Image.fromarray(la, mode="LA").save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    check(out, (10, 10))
    assert abs(int(out[0, 0, 0]) - 127) <= 1 and len(set(out[0, 0])) == 1


def test_grayscale(tmp_path: Path) -> None:
    gray = np.tile(np.arange(0, 250, 10, dtype=np.uint8), (5, 1))
    Image.fromarray(gray).save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    check(out, (5, 25))
    assert np.array_equal(out[..., 0], gray) and np.array_equal(out[..., 2], gray)


@pytest.mark.parametrize("transparent", [False, True])
def test_palette(tmp_path: Path, transparent: bool) -> None:
    img = Image.fromarray(pattern(32, 32)).quantize(8)
    if transparent:
        img.info["transparency"] = img.getpixel((31, 31))  # gray quadrant
        img.save(tmp_path / "a.png", transparency=img.info["transparency"])
    else:
        img.save(tmp_path / "a.png")
    assert Image.open(tmp_path / "a.png").mode == "P"
    out = read_image(tmp_path / "a.png")
    check(out, (32, 32))
    expected_last = (255, 255, 255) if transparent else (128, 128, 128)
    assert quadrants(out) == [(255, 0, 0), (0, 255, 0), (0, 0, 255), expected_last]


def test_16_bit_grayscale_is_scaled_not_clipped(tmp_path: Path) -> None:
    values = np.array([[0, 257, 32768, 65535]], np.uint16)
    cv2.imwrite(str(tmp_path / "a.png"), values)
    assert Image.open(tmp_path / "a.png").mode.startswith("I")
    out = read_image(tmp_path / "a.png")
    check(out, (1, 4))
    assert list(out[0, :, 0]) == [0, 1, 128, 255]


def test_16_bit_rgb(tmp_path: Path) -> None:
    rgb16 = pattern(16, 16).astype(np.uint16) * 257
    cv2.imwrite(str(tmp_path / "a.png"), rgb16[..., ::-1])  # OpenCV is BGR
    out = read_image(tmp_path / "a.png")
    check(out, (16, 16))
    assert np.array_equal(out, pattern(16, 16))


def test_cmyk_jpeg(tmp_path: Path) -> None:
    Image.fromarray(pattern(64, 64)).convert("CMYK").save(tmp_path / "a.jpg", quality=95)
    assert Image.open(tmp_path / "a.jpg").mode == "CMYK"
    out = read_image(tmp_path / "a.jpg")
    check(out, (64, 64))
    for got, want in zip(quadrants(out), quadrants(pattern(64, 64)), strict=True):
        assert np.abs(np.subtract(got, want)).max() <= 12


def test_exif_orientation_is_applied(tmp_path: Path) -> None:
    upright = pattern(30, 40)  # portrait
    stored = np.ascontiguousarray(np.rot90(upright, 1))  # what a sideways camera stores
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    Image.fromarray(stored).save(tmp_path / "a.jpg", exif=exif, quality=95)
    out = read_image(tmp_path / "a.jpg")
    check(out, (40, 30))
    for got, want in zip(quadrants(out), quadrants(upright), strict=True):
        assert np.abs(np.subtract(got, want)).max() <= 12


def test_tiny_image_is_not_resized(tmp_path: Path) -> None:
    write_image(tmp_path / "a.png", pattern(112, 112))
    assert np.array_equal(read_image(tmp_path / "a.png"), pattern(112, 112))


def test_huge_jpeg_is_downscaled(tmp_path: Path) -> None:
    Image.fromarray(pattern(5000, 3000)).save(tmp_path / "big.jpg", quality=90)
    out = read_image(tmp_path / "big.jpg", max_side=2048)
    check(out, (1229, 2048))
    for got, want in zip(quadrants(out), quadrants(pattern(8, 8)), strict=True):
        assert np.abs(np.subtract(got, want)).max() <= 12


def test_big_png_is_downscaled_with_area_averaging(tmp_path: Path) -> None:
    stripes = np.zeros((300, 1200, 3), np.uint8)
    stripes[:, ::2] = 255  # 1-pixel stripes: area averaging gives even gray, not aliasing
    Image.fromarray(stripes).save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png", max_side=600)
    check(out, (150, 600))
    assert np.abs(out.astype(int) - 128).max() <= 1


def test_not_an_image(tmp_path: Path) -> None:
    (tmp_path / "notes.png").write_text("not a picture")
    with pytest.raises(InputError, match=r"notes\.png: not an image Pillow can read"):
        read_image(tmp_path / "notes.png")


def test_truncated_image(tmp_path: Path) -> None:
    Image.fromarray(pattern(200, 200)).save(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"cut\.png: damaged image"):
        read_image(tmp_path / "cut.png")


def test_missing_and_empty(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"face\.jpg: no such file"):
        read_image(tmp_path / "face.jpg")
    (tmp_path / "empty.jpg").write_bytes(b"")
    with pytest.raises(InputError, match=r"empty\.jpg: empty file"):
        read_image(tmp_path / "empty.jpg")
    with pytest.raises(InputError, match="is a directory"):
        read_image(tmp_path)


def test_write_image_errors(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="unknown image format"):
        write_image(tmp_path / "a.xyz", pattern(4, 4))
    with pytest.raises(OutputError, match="directory does not exist"):
        write_image(tmp_path / "nope" / "a.png", pattern(4, 4))
    with pytest.raises(ValueError):
        write_image(tmp_path / "a.png", np.zeros((4, 4), np.uint8))
    assert os.listdir(tmp_path) == []


def test_write_jpeg(tmp_path: Path) -> None:
    write_image(tmp_path / "a.jpg", pattern(64, 64))
    assert Image.open(tmp_path / "a.jpg").format == "JPEG"
    got = quadrants(read_image(tmp_path / "a.jpg"))
    for cell, want in zip(got, quadrants(pattern(64, 64)), strict=True):
        assert np.abs(np.subtract(cell, want)).max() <= 3
