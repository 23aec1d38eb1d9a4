"""Rigid head pose between two sets of 3-D landmarks.

Pose is a similarity (scale, rotation, translation) fitted on the landmarks that
barely move with expression, so that what is left after undoing it is expression.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from streamgan.tracking.landmarks import RIGID, Landmarks

_RIGID = np.array(RIGID)


@dataclass(frozen=True)
class Similarity:
    """``y = scale * R @ x + t`` applied to row vectors."""

    scale: float
    rotation: NDArray[np.float64]  # (3, 3)
    translation: NDArray[np.float64]  # (3,)

    def apply(self, points: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(self.scale * points @ self.rotation.T + self.translation)

    def inverse(self) -> Similarity:
        r_inv = self.rotation.T
        return Similarity(1.0 / self.scale, r_inv, -(r_inv @ self.translation) / self.scale)

    @staticmethod
    def identity() -> Similarity:
        return Similarity(1.0, np.eye(3), np.zeros(3))


def fit_similarity(
    source: NDArray[np.float64], target: NDArray[np.float64]
) -> tuple[Similarity, float]:
    """Least-squares similarity taking ``source`` points onto ``target`` (Umeyama 1991).

    Returns the transform and the RMS residual relative to the target's spread, a
    shape-plausibility measure (0 for a perfect rigid match).
    """
    mu_s, mu_t = source.mean(0), target.mean(0)
    s0, t0 = source - mu_s, target - mu_t
    var_s = float((s0**2).sum() / len(source))
    cov = t0.T @ s0 / len(source)
    u, d, vt = np.linalg.svd(cov)
    sign = np.eye(3)
    if np.linalg.det(u) * np.linalg.det(vt) < 0:
        sign[2, 2] = -1.0
    rotation = u @ sign @ vt
    scale = float(np.trace(np.diag(d) @ sign) / max(var_s, 1e-12))
    translation = mu_t - scale * rotation @ mu_s
    fitted = Similarity(scale, rotation, translation)
    residual = np.sqrt(((fitted.apply(source) - target) ** 2).sum(1).mean())
    spread = np.sqrt((t0**2).sum(1).mean())
    return fitted, float(residual / max(spread, 1e-9))


def fit_head_pose(reference: Landmarks, current: Landmarks) -> tuple[Similarity, float]:
    """Head motion from ``reference`` to ``current``, fitted on the rigid points."""
    return fit_similarity(reference[_RIGID], current[_RIGID])
