"""Adding the watermark to yuv420p frames, in place, in a few milliseconds.

Everything that depends only on (key, payload, frame size) is computed once in
:class:`WatermarkEmbedder`: the coded bits, the chip grid and the full-frame
float pattern. Per frame there is only the texture mask (computed at 1/16 of the
pixels) and one fused multiply-add into the Y plane, into preallocated buffers:
about 2.5 ms per 720p frame on two cores, 1 ms at 360p.

The mask is why the mark is invisible: the eye does not see a change of a few
levels inside texture (hair, fabric, shelves), but it does on a flat wall or sky.
So the amplitude is ``FLAT_AMPLITUDE`` (1.5 levels, the peak change on a flat
frame; 2 showed as a faint mottle on a bright window at 1:1, 1 left re-encoded
reenact outputs, which are mostly smooth wall, unreadable at CRF 30) plus a share
of the local texture, up to ``MAX_AMPLITUDE`` (9). Texture is
the luma's standard deviation over 8x8 blocks, eroded over 3x3 blocks so that
the flat side of a strong edge (a face against a plain wall) does not count as
textured, then smoothed so the amplitude never changes abruptly. Only luma is
touched: codecs keep luma best, and chroma would show as colour noise.
"""

from __future__ import annotations

import logging

import cv2
import numpy as np
from numpy.typing import NDArray

from streamgan.media.yuv import Yuv420, planes
from streamgan.safety.watermark_ecc import conv_encode
from streamgan.safety.watermark_key import WatermarkKey
from streamgan.safety.watermark_pattern import cell_px_for, chip_layout, render_tile, tile_frame
from streamgan.safety.watermark_payload import WatermarkPayload

log = logging.getLogger(__name__)

FLAT_AMPLITUDE = 1.5
"""Peak change in luma levels where the picture is flat (measured trade-off, above)."""
MAX_AMPLITUDE = 9.0
"""Peak change in luma levels inside strong texture."""
TEXTURE_GAIN = 0.45
"""Extra amplitude per level of local luma standard deviation. Raised from 0.3 (and the
cap from 7): a clip halved and re-encoded at CRF 30 keeps the mark mostly where the
codec spends bits, in texture (the face), and 0.45 lifted coded-bit accuracy there by
about 0.05 for 1.5 dB of PSNR (still >= 41 dB on 256x256 reenact outputs). Only the
amplitude changed, not the pattern: every detector reads old and new outputs alike."""
_BLOCK = 8


def texture_amplitude(y: NDArray[np.uint8], strength: float = 1.0) -> NDArray[np.float32]:
    """Per-block embedding amplitude (about ``H/8 x W/8``) from the local texture.

    Measured on the luma shrunk to half size (finest texture at 2 px is enough, and
    the full-size float copies it would otherwise need cost more than the rest of
    the embedding).
    """
    h, w = y.shape
    half = cv2.resize(y, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    half = half.astype(np.float32)
    size = (max(1, w // _BLOCK), max(1, h // _BLOCK))
    mean = cv2.resize(half, size, interpolation=cv2.INTER_AREA)
    mean_sq = cv2.resize(cv2.multiply(half, half), size, interpolation=cv2.INTER_AREA)
    std = cv2.sqrt(cv2.max(mean_sq - mean * mean, 0.0))
    texture = cv2.erode(std, np.ones((3, 3), np.uint8))
    amplitude = np.minimum(FLAT_AMPLITUDE + TEXTURE_GAIN * texture, MAX_AMPLITUDE)
    amplitude = cv2.blur(amplitude, (3, 3))
    return np.asarray(amplitude * strength, np.float32)


class WatermarkEmbedder:
    """Embeds one payload into every frame of one output (fixed size).

    Build one per output (or per live stream) and call :meth:`embed` on each
    frame; the pattern is computed here, once. Not thread-safe (it reuses scratch
    buffers): one embedder per stream. ``strength`` scales every amplitude,
    including the flat-area one; keep the default unless you measured why not.
    """

    def __init__(self, key: WatermarkKey, payload: WatermarkPayload, width: int, height: int,
                 *, strength: float = 1.0) -> None:
        if width <= 0 or height <= 0:
            raise ValueError(f"frame size must be positive, got {width}x{height}")
        if strength <= 0:
            raise ValueError(f"strength must be positive, got {strength}")
        self.key = key
        self.payload = payload
        self.width = width
        self.height = height
        self.strength = strength
        self.cell_px = cell_px_for(width, height)
        coded = conv_encode(payload.message_bits(key))
        tile = render_tile(chip_layout(key).chips(coded), self.cell_px)
        self._pattern = tile_frame(tile, width, height)
        # Full-size scratch buffers, reused every frame: allocating 4 MB arrays per
        # frame costs more (page faults) than the arithmetic.
        self._mask = np.empty((height, width), np.float32)
        self._delta = np.empty((height, width), np.float32)
        log.debug("watermark %s (key %s): %dx%d, %d px cells", payload.hex, key.key_id,
                  width, height, self.cell_px)

    def delta(self, y: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The signed change this frame's luma would get, before rounding (a scratch
        buffer: valid until the next call)."""
        amplitude = texture_amplitude(y, self.strength)
        cv2.resize(amplitude, (self.width, self.height), dst=self._mask,
                   interpolation=cv2.INTER_LINEAR)
        cv2.multiply(self._mask, self._pattern, dst=self._delta)
        return self._delta

    def embed(self, yuv: Yuv420) -> None:
        """Add the watermark to the Y plane of a yuv420p array, in place."""
        if yuv.shape != (self.height * 3 // 2, self.width) or yuv.dtype != np.uint8:
            raise ValueError(
                f"expected a yuv420p uint8 array of shape {(self.height * 3 // 2, self.width)},"
                f" got {yuv.dtype} {yuv.shape}"
            )
        y = planes(yuv)[0]
        delta = self.delta(y)
        if y.flags.c_contiguous:
            cv2.add(y, delta, dst=y, dtype=cv2.CV_8U)
        else:
            y[...] = cv2.add(np.ascontiguousarray(y), delta, dtype=cv2.CV_8U)

    def embed_luma(self, y: NDArray[np.uint8]) -> None:
        """Add the watermark to a ``(height, width)`` luma plane in place."""
        if y.shape != (self.height, self.width) or y.dtype != np.uint8:
            raise ValueError(f"expected uint8 luma {(self.height, self.width)}, got {y.shape}")
        delta = self.delta(y)
        if y.flags.c_contiguous:
            cv2.add(y, delta, dst=y, dtype=cv2.CV_8U)
        else:
            y[...] = cv2.add(np.ascontiguousarray(y), delta, dtype=cv2.CV_8U)
