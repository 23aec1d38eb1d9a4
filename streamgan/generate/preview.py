"""Preview sheets of clips: one row per clip, frames left to right."""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

GAP = 2


def clip_grid(clips: NDArray[np.uint8], columns: int = 8, scale: int = 2) -> NDArray[np.uint8]:
    """(N, T, H, W, 3) clips -> one RGB sheet of ``columns`` evenly spaced frames each."""
    n, t, h, w = clips.shape[:4]
    picks = np.linspace(0, t - 1, min(columns, t)).round().astype(int)
    sh, sw = h * scale, w * scale
    sheet = np.full((n * (sh + GAP) - GAP, len(picks) * (sw + GAP) - GAP, 3), 255, np.uint8)
    for row in range(n):
        for col, frame in enumerate(picks):
            tile = cv2.resize(clips[row, frame], (sw, sh), interpolation=cv2.INTER_NEAREST)
            top, left = row * (sh + GAP), col * (sw + GAP)
            sheet[top:top + sh, left:left + sw] = tile
    return sheet
