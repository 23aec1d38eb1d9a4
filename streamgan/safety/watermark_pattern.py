"""The keyed spread-spectrum pattern: a periodic tile of smooth ±1 chips.

The tile is a grid of ``CELLS x CELLS`` chips. A keyed permutation makes a quarter
of the cells sync *pilots* (a fixed keyed ±1 sequence the detector knows) and deals
the rest out to the coded bits, two or three cells per bit per tile; every chip is
then multiplied by a keyed ±1 spreading sign. Each chip becomes a square of
``cell_px`` pixels, blurred so the pattern has no sharp edges: its energy sits at
low and middle frequencies (periods of 2 to 8 cells), which video codecs, JPEG and
downscaling keep, instead of the fine detail they throw away.

The tile repeats over the whole frame, so:

- a crop only shifts the tile's phase, which the detector finds by correlating
  with the pilots (FFT, all shifts at once);
- the cell size is proportional to the frame (about 1/90 of its shorter side),
  so a rescaled video still carries the same tile; the detector measures the
  repetition period from the autocorrelation and resamples to a canonical size;
- every cell appears many times per frame (about 14 tiles), and the frame's
  repetitions plus the frames of a clip are summed before decoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

from streamgan.safety.watermark_ecc import coded_length
from streamgan.safety.watermark_key import WatermarkKey
from streamgan.safety.watermark_payload import MESSAGE_BITS

CELLS = 32
"""Chips per tile side."""
PILOT_CELLS = CELLS * CELLS // 4
CODED_BITS = coded_length(MESSAGE_BITS)
CANONICAL_CELL_PX = 4
"""Pixels per cell of the detector's reference tile."""
CELLS_PER_SIDE = 90.0
"""The frame's shorter side over the cell size: 4 px cells at 360p, 8 px at 720p."""
MIN_CELL_PX = 3
BLUR_PER_CELL = 0.25
"""Gaussian sigma of the chip smoothing, in cells."""


def cell_px_for(width: int, height: int) -> int:
    """Pixels per cell for a frame of this size."""
    return max(MIN_CELL_PX, round(min(width, height) / CELLS_PER_SIDE))


@dataclass(frozen=True)
class ChipLayout:
    """Which cell does what, all derived from the key (never from the payload)."""

    signs: NDArray[np.float32]
    """``(CELLS, CELLS)`` keyed ±1 spreading signs."""
    pilot: NDArray[np.bool_]
    """``(CELLS, CELLS)`` True for sync pilot cells."""
    bit_of_cell: NDArray[np.int64]
    """``(CELLS, CELLS)`` coded-bit index carried by each data cell, -1 for pilots."""

    def chips(self, coded: NDArray[np.uint8]) -> NDArray[np.float32]:
        """The ±1 chip grid carrying ``coded`` (``CODED_BITS`` bits of 0/1)."""
        if coded.shape != (CODED_BITS,):
            raise ValueError(f"expected {CODED_BITS} coded bits, got shape {coded.shape}")
        bit_signs = 2.0 * coded.astype(np.float32) - 1.0
        data = np.where(self.pilot, 1.0, bit_signs[np.maximum(self.bit_of_cell, 0)])
        return np.asarray(self.signs * data, np.float32)

    def pilot_chips(self) -> NDArray[np.float32]:
        """The chip grid with only the pilots set (the detector's sync reference)."""
        return np.where(self.pilot, self.signs, 0.0).astype(np.float32)

    def soft_bits(self, cell_values: NDArray[np.float32]) -> NDArray[np.float64]:
        """Per coded bit, the despread sum of its cells' matched-filter outputs."""
        despread = (cell_values * self.signs).astype(np.float64)
        data = ~self.pilot
        sums = np.bincount(self.bit_of_cell[data], weights=despread[data], minlength=CODED_BITS)
        return np.asarray(sums, np.float64)


@lru_cache(maxsize=8)
def chip_layout(key: WatermarkKey) -> ChipLayout:
    """The keyed layout: spreading signs and the cell permutation (cached per key)."""
    rng = key.rng("layout")
    signs = rng.choice(np.array([-1.0, 1.0], np.float32), size=(CELLS, CELLS))
    order = rng.permutation(CELLS * CELLS)
    bit_of_cell = np.full(CELLS * CELLS, -1, np.int64)
    data_cells = order[PILOT_CELLS:]
    # Deal the bits out over a keyed order so each gets floor or ceil of its share.
    bit_of_cell[data_cells] = rng.permutation(data_cells.size) % CODED_BITS
    pilot = np.zeros(CELLS * CELLS, bool)
    pilot[order[:PILOT_CELLS]] = True
    return ChipLayout(signs=signs.astype(np.float32), pilot=pilot.reshape(CELLS, CELLS),
                      bit_of_cell=bit_of_cell.reshape(CELLS, CELLS))


def wrap_blur(image: NDArray[np.float32], sigma: float) -> NDArray[np.float32]:
    """Gaussian blur of a periodic image (the tile wraps around at its edges)."""
    pad = int(np.ceil(3 * sigma))
    if pad == 0:
        return image
    h, w = image.shape
    reps = (int(np.ceil(pad / h)) * 2 + 1, int(np.ceil(pad / w)) * 2 + 1)
    big = np.tile(image, reps)
    oy, ox = (reps[0] // 2) * h, (reps[1] // 2) * w
    window = np.ascontiguousarray(big[oy - pad:oy + h + pad, ox - pad:ox + w + pad])
    out = cv2.GaussianBlur(window, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    return np.ascontiguousarray(out[pad:pad + h, pad:pad + w], dtype=np.float32)


def render_tile(chips: NDArray[np.float32], cell_px: int) -> NDArray[np.float32]:
    """One period of the pattern: chips as ``cell_px`` squares, smoothed, peak 1."""
    blocks = np.kron(chips, np.ones((cell_px, cell_px), np.float32)).astype(np.float32)
    tile = wrap_blur(blocks, BLUR_PER_CELL * cell_px)
    peak = float(np.abs(tile).max())
    return tile / peak if peak > 0 else tile


def tile_frame(tile: NDArray[np.float32], width: int, height: int) -> NDArray[np.float32]:
    """The tile repeated over a ``height x width`` frame, starting at its top left."""
    th, tw = tile.shape
    reps = (-(-height // th), -(-width // tw))
    return np.ascontiguousarray(np.tile(tile, reps)[:height, :width])
