"""One Euro filter over whole landmark arrays.

Casiez et al. (CHI 2012): a low-pass filter whose cut-off rises with speed, so a
still face does not shimmer and a fast turn does not trail. It runs online (no
look-ahead), which the live path needs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class OneEuroSettings:
    """Cut-offs in Hz; ``beta`` in 1/(size unit), speeds measured in face sizes/s."""

    min_cutoff: float = 1.5
    beta: float = 8.0
    d_cutoff: float = 3.0


def _alpha(cutoff: NDArray[np.float64] | float, dt: float) -> NDArray[np.float64] | float:
    tau = 1.0 / (2.0 * math.pi * cutoff)
    return 1.0 / (1.0 + tau / dt)


class OneEuroFilter:
    """Filters an array of any shape; speed is normalised by a scale (the face size)."""

    def __init__(self, settings: OneEuroSettings | None = None,
                 cutoff_scale: NDArray[np.float64] | float = 1.0) -> None:
        """``cutoff_scale`` raises the minimum cut-off per element (broadcast against
        the samples): fast, small motions such as blinks need less smoothing than
        the head's pose."""
        self.settings = settings or OneEuroSettings()
        self.cutoff_scale = cutoff_scale
        self._x: NDArray[np.float64] | None = None
        self._dx: NDArray[np.float64] | None = None
        self._t: float | None = None

    def reset(self) -> None:
        """Forget the history, e.g. after the face was lost for a while."""
        self._x = self._dx = None
        self._t = None

    def __call__(self, x: NDArray[np.float64], t: float, scale: float = 1.0) -> NDArray[np.float64]:
        """Filter sample ``x`` taken at time ``t`` seconds."""
        s = self.settings
        if self._x is None or self._dx is None or self._t is None:
            self._x, self._dx, self._t = x.astype(np.float64), np.zeros_like(x, np.float64), t
            return self._x.copy()
        dt = t - self._t
        if dt <= 0:  # a repeated timestamp carries no new motion
            return self._x.copy()
        dx = (x - self._x) / dt
        a_d = _alpha(s.d_cutoff, dt)
        dx_hat = a_d * dx + (1 - a_d) * self._dx
        speed = np.abs(dx_hat) / max(scale, 1e-6)
        a = _alpha(s.min_cutoff * self.cutoff_scale + s.beta * speed, dt)
        x_hat = a * x + (1 - a) * self._x
        self._x, self._dx, self._t = x_hat, dx_hat, t
        return x_hat.copy()
