"""Relative motion transfer: what the target's landmarks should be for a driver frame.

Motion is measured against the driver's own neutral reference, never copied as
absolute positions, so the target keeps its face shape:

* head pose: the similarity taking the reference to the current frame (fitted on
  rigid points), conjugated into the target's frame so a nod stays a nod about the
  target's own head;
* expression: the driver's landmarks with its head pose undone, minus the
  reference, rotated and scaled onto the target's face;
* eyelids: set by the driver's eye-opening *ratio* so a blink closes any eye fully.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from streamgan.tracking import landmarks as lm_idx
from streamgan.tracking.landmarks import Landmarks
from streamgan.tracking.pose import Similarity, fit_head_pose

_EYES = (
    (np.array(lm_idx.RIGHT_EYE_UPPER), np.array(lm_idx.RIGHT_EYE_LOWER),
     np.array(lm_idx.RIGHT_IRIS)),
    (np.array(lm_idx.LEFT_EYE_UPPER), np.array(lm_idx.LEFT_EYE_LOWER),
     np.array(lm_idx.LEFT_IRIS)),
)
_LIP_UPPER = np.array(lm_idx.INNER_LIP_UPPER)
_LIP_LOWER = np.array(lm_idx.INNER_LIP_LOWER)


@dataclass(frozen=True)
class MotionSettings:
    """How strongly each part of the motion is transferred (1 = as the driver)."""

    pose: float = 1.0
    expression: float = 1.0
    max_eye_ratio: float = 1.4
    eye_shut_ratio: float = 0.35
    """FaceMesh reads a shut eye at about a third of its open height, never 0: driver
    openings at or below this fraction of the reference count as fully shut."""


@dataclass(frozen=True)
class TargetMotion:
    """Where the target's landmarks go, and the head motion that took them there."""

    landmarks: Landmarks
    head: Similarity
    """Target-frame head motion; control points around the head follow it."""


def _eye_ratio(points: Landmarks, upper: NDArray[np.int_], lower: NDArray[np.int_]) -> float:
    return float(np.linalg.norm(points[upper[2:5]] - points[lower[2:5]], axis=1).mean())


def _slerp_identity(sim: Similarity, weight: float) -> Similarity:
    """Scale a similarity's motion by ``weight`` (0 = identity, 1 = unchanged)."""
    if weight == 1.0:
        return sim
    rotvec_angle = np.arccos(np.clip((np.trace(sim.rotation) - 1) / 2, -1.0, 1.0))
    if rotvec_angle < 1e-9:
        rotation = np.eye(3)
    else:
        r = sim.rotation
        axis = np.array([r[2, 1] - r[1, 2], r[0, 2] - r[2, 0], r[1, 0] - r[0, 1]])
        axis /= 2 * np.sin(rotvec_angle)
        angle = weight * rotvec_angle
        k = np.array([[0, -axis[2], axis[1]], [axis[2], 0, -axis[0]], [-axis[1], axis[0], 0]])
        rotation = np.eye(3) + np.sin(angle) * k + (1 - np.cos(angle)) * k @ k
    return Similarity(sim.scale**weight, rotation, sim.translation * weight)


class MotionTransfer:
    """Maps driver landmarks to target landmarks, relative to a driver reference."""

    def __init__(self, target: Landmarks, settings: MotionSettings | None = None) -> None:
        self.settings = settings or MotionSettings()
        self.target = target
        down = lm_idx.head_axes(target)[1] * (1.0, 1.0, 0.0)
        self._down_2d = down / np.linalg.norm(down)  # the face's "down" in the picture
        rest_gap = (target[_LIP_LOWER] - target[_LIP_UPPER]) @ self._down_2d
        self._rest_lip_gap = np.minimum(rest_gap, 0.0)
        self._reference: Landmarks | None = None
        self._to_target = Similarity.identity()
        self._ref_eye = (1.0, 1.0)

    def set_reference(self, reference: Landmarks) -> None:
        """The driver's neutral frame; motion is measured from here."""
        self._reference = reference
        self._to_target, _ = fit_head_pose(reference, self.target)
        self._ref_eye = tuple(  # type: ignore[assignment]
            max(_eye_ratio(reference, up, low), 1e-6) for up, low, _ in _EYES
        )

    @property
    def reference(self) -> Landmarks | None:
        return self._reference

    def transfer(self, driver: Landmarks) -> TargetMotion:
        """Target landmarks for one driver frame (the reference must be set)."""
        if self._reference is None:
            raise RuntimeError("set_reference() first")
        s = self.settings
        pose, _ = fit_head_pose(self._reference, driver)
        # Expression: undo the driver's head motion, compare with its neutral face.
        normalised = pose.inverse().apply(driver)
        delta = (normalised - self._reference) * s.expression
        m = self._to_target
        shaped = self.target + m.scale * delta @ m.rotation.T
        shaped = self._set_eyelids(shaped, normalised)
        shaped = self._keep_lips_apart(shaped)
        # Head motion, expressed in the target's own frame: M . P . M^-1.
        head = _slerp_identity(pose, s.pose)
        m_inv = m.inverse()
        rotation = m.rotation @ head.rotation @ m_inv.rotation
        scale = head.scale
        translation = m.apply(head.apply(m_inv.translation[None]))[0]
        target_head = Similarity(scale, rotation, translation)
        return TargetMotion(target_head.apply(shaped), target_head)

    def _set_eyelids(self, shaped: Landmarks, normalised: Landmarks) -> Landmarks:
        """Each upper-lid point sits at the driver's opening ratio above its lower-lid
        point (the target's own eye shape, scaled); the iris closes with the lids."""
        out = shaped.copy()
        for (upper, lower, iris), ref_gap in zip(_EYES, self._ref_eye, strict=True):
            shut = self.settings.eye_shut_ratio
            ratio = (_eye_ratio(normalised, upper, lower) / ref_gap - shut) / (1.0 - shut)
            ratio = float(np.clip(ratio, 0.0, self.settings.max_eye_ratio))
            out[upper] = shaped[lower] + ratio * (self.target[upper] - self.target[lower])
            lid = shaped[lower].mean(0)
            out[iris] = lid + min(ratio, 1.0) * (shaped[iris] - lid)
        return out

    def _keep_lips_apart(self, shaped: Landmarks) -> Landmarks:
        """The inner lower lip never crosses the upper one further than it does at rest."""
        down = self._down_2d
        gap = (shaped[_LIP_LOWER] - shaped[_LIP_UPPER]) @ down
        out = shaped.copy()
        out[_LIP_LOWER] -= np.outer(np.minimum(gap - self._rest_lip_gap, 0.0), down)
        return out
