"""Rigid head pose between two sets of 3-D landmarks.

Pose is a similarity (scale, rotation, translation) fitted on the landmarks that
barely move with expression, so that what is left after undoing it is expression.
Two fits: :func:`fit_similarity`, plain least squares, whose residual measures how far
a shape is from a rigid copy of another (the tracker's plausibility); and
:func:`fit_similarity_robust`, which down-weights the few points that did not move
with the head (a hand over a cheek, a squint lifting the cheekbones, points FaceMesh
guesses under an occluder), so they cannot tilt or nod the whole head.
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


def _umeyama(source: NDArray[np.float64], target: NDArray[np.float64],
             weights: NDArray[np.float64]) -> tuple[float, NDArray[np.float64],
                                                    NDArray[np.float64]]:
    """Scale, rotation and translation minimising the weighted sum of squared distances
    (Umeyama 1991); ``weights`` sum to 1."""
    mu_s, mu_t = weights @ source, weights @ target
    s0 = source - mu_s
    ws0 = s0 * weights[:, None]
    var_s = float(np.vdot(ws0, s0))
    u, d, vt = np.linalg.svd(target.T @ ws0)  # the cross-covariance (ws0 sums to 0)
    rotation = u @ vt
    if np.linalg.det(rotation) < 0:  # a reflection: flip the weakest axis
        u[:, 2] = -u[:, 2]
        d[2] = -d[2]
        rotation = u @ vt
    scale = float(d.sum()) / max(var_s, 1e-12)
    return scale, rotation, mu_t - scale * (rotation @ mu_s)


def _relative_residual(fitted: Similarity, source: NDArray[np.float64],
                       target: NDArray[np.float64]) -> float:
    residual = np.sqrt(((fitted.apply(source) - target) ** 2).sum(1).mean())
    spread = np.sqrt(((target - target.mean(0)) ** 2).sum(1).mean())
    return float(residual / max(spread, 1e-9))


def fit_similarity(
    source: NDArray[np.float64], target: NDArray[np.float64]
) -> tuple[Similarity, float]:
    """Least-squares similarity taking ``source`` points onto ``target`` (Umeyama 1991).

    Returns the transform and the RMS residual relative to the target's spread, a
    shape-plausibility measure (0 for a perfect rigid match).
    """
    fitted = Similarity(*_umeyama(source, target, np.full(len(source), 1.0 / len(source))))
    return fitted, _relative_residual(fitted, source, target)


ROBUST_WIDTHS = (1.0, 1.0, 1.5, 2.0)
"""One reweighting (about 40 us) per entry: the weight's width in median distances. The
narrow first ones part a covered patch from the face quickly, even from a least-squares
start it has tilted; the last, wider one keeps near-equal weights on the face's own
noise. With 8 of 31 points pushed off by 20 % of the spread, 4 reweightings at a fixed
width of 2 left 5 % of cases more than 3 degrees off; these leave 0.2 degrees."""
ROBUST_NOISE = 0.01
"""The scale is never below this fraction of the target's spread (about 0.7 px on a
640 px webcam face): on a clean face every weight stays near 1, so the fit is least
squares' and does not chase each frame's noise."""


def fit_similarity_robust(
    source: NDArray[np.float64], target: NDArray[np.float64],
    widths: tuple[float, ...] = ROBUST_WIDTHS,
) -> tuple[Similarity, float]:
    """Similarity taking ``source`` onto ``target`` that a minority of stray points
    cannot pull: iteratively reweighted least squares from the least-squares fit, each
    point weighted ``1 / (1 + (r / (c s))**2)**2`` (Geman-McClure) by its distance ``r``
    from the last fit, ``s`` the median distance (at least ``ROBUST_NOISE`` of the
    spread), ``c`` each of ``widths`` in turn.

    The weights are smooth in the residuals, so a slowly changing input gives a slowly
    changing fit: no point switches in or out between frames. A far-off point's weight
    falls as ``r**-4``, so its pull fades. The residual returned is the plain RMS
    residual of this fit relative to the target's spread, never below the
    least-squares one, so it cannot make a distorted shape look plausible.
    """
    n = len(source)
    centred = target - target.mean(0)
    floor2 = ROBUST_NOISE**2 * max(float(np.vdot(centred, centred)) / n, 1e-18)
    middle = (n - 1) // 2
    scale, rotation, translation = _umeyama(source, target, np.full(n, 1.0 / n))
    for width in widths:
        diff = (scale * source) @ rotation.T + (translation - target)
        r2 = np.einsum("ij,ij->i", diff, diff)
        s2 = max(float(np.partition(r2, middle)[middle]), floor2) * width**2
        weights = 1.0 / (1.0 + r2 / s2) ** 2
        scale, rotation, translation = _umeyama(source, target, weights / weights.sum())
    fitted = Similarity(scale, rotation, translation)
    return fitted, _relative_residual(fitted, source, target)


def fit_head_pose(reference: Landmarks, current: Landmarks) -> tuple[Similarity, float]:
    """Head motion from ``reference`` to ``current``, least squares on the rigid points.

    Its residual is a shape-plausibility measure: a distorted face scores badly."""
    return fit_similarity(reference[_RIGID], current[_RIGID])


def fit_head_pose_robust(reference: Landmarks, current: Landmarks
                         ) -> tuple[Similarity, float]:
    """Head motion from ``reference`` to ``current`` on the rigid points, robustly: a few
    of them pulled away by expression or an occluder do not tilt or nod the head."""
    return fit_similarity_robust(reference[_RIGID], current[_RIGID])
