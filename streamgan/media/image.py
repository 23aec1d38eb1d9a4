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
from collections.abc import Iterator
from contextlib import contextmanager
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


def read_image(path: str | os.PathLike[str], *, max_side: int = 2048) -> RgbImage:
    """Load ``path`` as upright HxWx3 uint8 RGB, downscaled so its longer side <= ``max_side``.

    Transparency is composited onto white; 16-bit images are scaled (not
    clipped) to 8 bits; EXIF orientation is applied. Raises InputError for a
    missing, empty or unreadable file.
    """
    if max_side < 1:
        raise ValueError(f"max_side must be >= 1, got {max_side}")
    p = Path(path)
    with open_image(p, draft_side=max_side) as img:
        rgb = _to_rgb8(_exif_upright(img, p))
    return _fit(rgb, max_side)


@contextmanager
def open_image(path: Path, draft_side: int | None = None) -> Iterator[Image.Image]:
    """The decoded image at ``path``, with every way it can fail worded as InputError.

    ``draft_side`` lets JPEG decoding shrink on the fly towards that size.
    """
    check_input_file(path)
    try:
        with Image.open(path) as img:
            if draft_side is not None:
                _draft(img, draft_side)
            img.load()
            yield img
    except UnidentifiedImageError:
        raise InputError(f"{path}: not an image Pillow can read") from None
    except Image.DecompressionBombError as e:
        raise InputError(f"{path}: image is too large to load safely ({e})") from e
    except (OSError, SyntaxError, ValueError) as e:
        raise InputError(f"{path}: damaged image ({e})") from e


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
        values = np.asarray(img, dtype=np.float64)
        gray = np.clip(values / 257.0, 0, 255).round().astype(np.uint8)
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
