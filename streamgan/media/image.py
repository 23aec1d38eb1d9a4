"""Reading source portraits and writing stills, whatever the file's pixel format.

Users hand in whatever their phone or image editor produced: transparent
PNGs, 16-bit scans, CMYK JPEGs from print workflows, photos lying on their
side with an EXIF orientation tag. Everything comes out as upright 8-bit RGB
of a bounded size, so face detection sees what the user sees.
"""

from __future__ import annotations

import io
import logging
import math
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from streamgan.errors import InputError, OutputError
from streamgan.media.atomic import atomic_output
from streamgan.media.container import check_input_file
from streamgan.media.frame import RgbImage

log = logging.getLogger(__name__)

_BACKGROUND = (255, 255, 255)
"""Transparent pixels are composited onto white: what a cut-out portrait looks like
on a web page, and never the arbitrary colour hidden under alpha = 0."""

_SIXTEEN_BIT_MODES = frozenset({"I", "I;16", "I;16L", "I;16B", "I;16N"})

MAX_PIXELS_ENV = "STREAMGAN_MAX_IMAGE_PIXELS"
DEFAULT_MAX_PIXELS = 100_000_000
"""Larger images are refused before decoding (a 356 KB PNG can hold 13000x13000
16-bit pixels: gigabytes once decoded). 100 MP passes every phone and camera photo
but the 200 MP sensor modes; set STREAMGAN_MAX_IMAGE_PIXELS to raise it."""
_WORK_BYTES_PER_PIXEL = 8
"""What reading needs beyond the decoded image itself: the RGB copy and the resize."""


@dataclass(frozen=True)
class ImageFile:
    """An image file's bytes, read once.

    Whatever checks an image (its consent tag, its pixel hash) and whatever uses it
    (the engine) decode these same bytes, so swapping the file on disk between the
    check and the use changes nothing.
    """

    path: Path
    data: bytes = field(repr=False)

    @staticmethod
    def read(path: str | os.PathLike[str]) -> ImageFile:
        p = Path(path)
        check_input_file(p)
        try:
            return ImageFile(p, p.read_bytes())
        except OSError as e:
            raise InputError(f"{p}: cannot read: {e.strerror or e}") from e


ImageSource = str | os.PathLike[str] | ImageFile


def image_file(source: ImageSource) -> ImageFile:
    """``source`` itself when already read, else the file's bytes read now."""
    return source if isinstance(source, ImageFile) else ImageFile.read(source)


def max_pixels() -> int:
    """The pixel count above which images are refused (STREAMGAN_MAX_IMAGE_PIXELS)."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip().replace("_", "")
    if not raw:
        return DEFAULT_MAX_PIXELS
    try:
        value = int(float(raw))
    except ValueError:
        raise InputError(f"{MAX_PIXELS_ENV}={raw!r}: not a number of pixels") from None
    if value < 1:
        raise InputError(f"{MAX_PIXELS_ENV}={raw!r}: must be at least 1")
    return value


def read_image(source: ImageSource, *, max_side: int = 2048, min_side: int = 1) -> RgbImage:
    """Load ``source`` as upright HxWx3 uint8 RGB, downscaled so its longer side <= ``max_side``.

    Transparency is composited onto white; 16-bit images are scaled (not
    clipped) to 8 bits; EXIF orientation is applied. Raises InputError for a
    missing, empty or unreadable file, one with a side under ``min_side`` (what the
    caller's detector needs), or one too large to decode safely.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    file = image_file(source)
    with open_image(file, draft_side=max_side, min_side=min_side) as img:
        rgb = _to_rgb8(_exif_upright(img, file.path))
    return _fit(rgb, max_side)


@contextmanager
def open_image(source: ImageSource, draft_side: int | None = None,
               min_side: int = 1) -> Iterator[Image.Image]:
    """The decoded image, with every way it can fail worded as InputError.

    ``draft_side`` lets JPEG decoding shrink on the fly towards that size. The size
    is checked from the header, before any pixel is decoded.
    """
    file = image_file(source)
    path = file.path
    limit = max_pixels()
    if Image.MAX_IMAGE_PIXELS is not None and Image.MAX_IMAGE_PIXELS < limit:
        Image.MAX_IMAGE_PIXELS = limit  # a limit raised by the user governs Pillow's too
    try:
        with warnings.catch_warnings(record=True) as caught:
            # Pillow warns with raw text ("Corrupt EXIF data", its own bomb warning, which
            # the limit below replaces): each becomes one log line naming the file.
            warnings.simplefilter("always")
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(file.data))
            with img:
                _check_size(path, img, min_side, limit)
                if draft_side is not None:
                    _draft(img, draft_side)
                img.load()
                _log_warnings(path, caught)
                yield img
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image Pillow can read") from None
    except Image.DecompressionBombError:
        raise InputError(f"{path}: image is too large to decode safely (over "
                         f"{limit:,} pixels; raise {MAX_PIXELS_ENV} to allow it)"
                         ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise InputError(f"{path}: damaged image ({e})") from e


def _log_warnings(path: Path, caught: list[warnings.WarningMessage]) -> None:
    for warning in caught:
        log.warning("%s: %s", path, str(warning.message).strip())
    caught.clear()


def _check_size(path: Path, img: Image.Image, min_side: int, limit: int) -> None:
    width, height = img.size
    if min(width, height) < min_side:
        raise InputError(f"{path}: the image is {width}x{height}; at least "
                         f"{min_side}x{min_side} pixels are needed")
    pixels = width * height
    if pixels > limit:
        raise InputError(f"{path}: the image is {width}x{height} ({pixels / 1e6:.0f} MP), over "
                         f"the limit of {limit / 1e6:.0f} MP; raise {MAX_PIXELS_ENV} to allow it")
    needed = pixels * (_decoded_bytes_per_pixel(img) + _WORK_BYTES_PER_PIXEL)
    available = _available_memory()
    if available is not None and needed > available:
        raise InputError(f"{path}: the image is {width}x{height}: decoding it needs about "
                         f"{needed / 2**30:.1f} GiB of memory, {available / 2**30:.1f} GiB "
                         "is available")


def _decoded_bytes_per_pixel(img: Image.Image) -> int:
    if img.mode in _SIXTEEN_BIT_MODES or img.mode == "F":
        return 4
    return max(1, len(img.getbands()))


def _available_memory() -> int | None:
    """MemAvailable (Linux), or None where it cannot be told."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _draft(img: Image.Image, max_side: int) -> None:
    """Let the JPEG decoder skip detail we would throw away (a 4-8x faster load for big photos)."""
    if img.format != "JPEG" or max(img.size) <= max_side:
        return
    scale = max_side / max(img.size)
    # draft() keeps the result at least this large, so the final resize still has work to do.
    img.draft(img.mode, (math.ceil(img.width * scale), math.ceil(img.height * scale)))


def _exif_upright(img: Image.Image, path: Path) -> Image.Image:
    try:
        return ImageOps.exif_transpose(img)
    except Exception as e:  # broken EXIF must not make an otherwise fine photo unusable
        log.warning("%s: ignoring unreadable EXIF orientation (%s)", path, e)
        return img


def _to_rgb8(img: Image.Image) -> RgbImage:
    mode = img.mode
    if mode in _SIXTEEN_BIT_MODES:
        # Integer arithmetic: float64 here took 8 bytes a pixel (gigabytes for big scans).
        values = np.clip(np.asarray(img), 0, 65535).astype(np.uint32)
        gray = ((values + 128) // 257).astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "F":
        values = np.asarray(img, dtype=np.float64)
        scale = 255.0 if values.size and values.max() <= 1.0 else 1.0
        gray = np.clip(values * scale, 0, 255).round().astype(np.uint8)
        return np.repeat(gray[:, :, None], 3, axis=2)
    if mode == "CMYK":
        return np.asarray(_cmyk_to_rgb(img))
    if mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    elif mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info:
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, (*_BACKGROUND, 255))
        img = Image.alpha_composite(background, img)
    return np.asarray(img.convert("RGB"))


def _cmyk_to_rgb(img: Image.Image) -> Image.Image:
    """Use the embedded ICC profile when there is one: naive CMYK->RGB is visibly off."""
    icc = img.info.get("icc_profile")
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            converted = ImageCms.profileToProfile(
                img, source, ImageCms.createProfile("sRGB"), outputMode="RGB"
            )
            if converted is not None:
                return converted
        except (ImageCms.PyCMSError, OSError) as e:
            log.debug("CMYK ICC conversion failed, using the plain formula: %s", e)
    return img.convert("RGB")


def _fit(rgb: RgbImage, max_side: int) -> RgbImage:
    h, w = rgb.shape[:2]
    if max(h, w) <= max_side:
        return np.ascontiguousarray(rgb)
    scale = max_side / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    return np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def write_image(path: str | os.PathLike[str], rgb: RgbImage) -> None:
    """Save HxWx3 uint8 RGB; the format follows the extension; the file appears only complete."""
    if rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 uint8 RGB array, got {rgb.dtype} {rgb.shape}")
    p = Path(path)
    ext = p.suffix.lower()
    if ext not in Image.registered_extensions():
        raise OutputError(f"{p}: cannot write: unknown image format {p.suffix or '(none)'!r}")
    with atomic_output(p) as temp:
        try:
            picture = Image.fromarray(np.ascontiguousarray(rgb))
            if ext in (".jpg", ".jpeg"):
                picture.save(temp, quality=95)
            else:
                picture.save(temp)
        except (OSError, ValueError, KeyError) as e:
            raise OutputError(f"{p}: cannot write: {e}") from e
