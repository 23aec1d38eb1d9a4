"""Relative motion transfer: what the target's landmarks should be for a driver frame.

Motion is measured against the driver's own neutral reference, never copied as
absolute positions, so the target keeps its face shape:

* head pose: the similarity taking the reference to the current frame (fitted robustly on
  rigid points), conjugated into the target's frame so a nod stays a nod about the
  target's own head;
* expression: the driver's landmarks with its head pose undone, minus the
  reference, rotated and scaled onto the target's face;
* eyelids: set by the driver's eye-opening *ratio* so a blink closes any eye fully.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from streamgan.engines.warp.eyes import place_iris
from streamgan.tracking import landmarks as lm_idx
from streamgan.tracking.landmarks import Landmarks
from streamgan.tracking.pose import Similarity, fit_head_pose, fit_head_pose_robust

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
    eye_shut_ratio: float = 0.42
    """FaceMesh reads a shut eye at about half its open height, never 0 (0.44-0.55 on
    the sample drivers' blinks, 0.3-0.55 on this engine's shut renders): driver
    openings at or below this fraction of the reference count as fully shut. 0.42 makes
    the output's blink depth, read by FaceMesh, the driver's (1.06 on the sample, 0.97
    on the near-still webcam clip; 0.35 gives 0.89, 0.5 gives 1.3)."""
    shut_gap: float = 0.5
    """Pixels left between a shut eye's lids: lid points that coincide would merge into
    one mesh vertex and drag the eye's interior over the lid."""
    iris_hidden_below: float = 0.5
    """Lid openness (fraction of the target's) below which the iris leaves the mesh."""


@dataclass(frozen=True)
class TargetMotion:
    """Where the target's landmarks go, and the head motion that took them there."""

    landmarks: Landmarks
    head: Similarity
    """Target-frame head motion; control points around the head follow it."""
    eyes: EyeMotion = field(default_factory=lambda: EyeMotion())


def _no_points() -> NDArray[np.intp]:
    return np.zeros(0, np.intp)


@dataclass(frozen=True)
class EyeMotion:
    """What the eyes need beyond moved landmarks."""

    openness: tuple[float, ...] = (1.0, 1.0)
    """Each eye's lid opening (right, left) as a fraction of the target's own."""
    resampled: NDArray[np.intp] = field(default_factory=_no_points)
    """Points that sample somewhere other than their own place in the target..."""
    sources: Landmarks = field(default_factory=lambda: np.zeros((0, 3)))
    """...and where (an iris pulled along by the gaze)."""
    hidden: NDArray[np.intp] = field(default_factory=_no_points)
    """Points to leave out of the mesh: the iris of an eye that is nearly shut."""


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
        self._last_ratio = [1.0, 1.0]

    def reset(self) -> None:
        """A new stream: no eye opening to hold."""
        self._last_ratio = [1.0, 1.0]

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

    def transfer(self, driver: Landmarks, covered: tuple[bool, ...] = (False, False)
                 ) -> TargetMotion:
        """Target landmarks for one driver frame (the reference must be set).

        An eye marked ``covered`` (right, left) keeps its last uncovered opening and
        looks ahead: FaceMesh still places lids on a hand, wherever it guesses."""
        if self._reference is None:
            raise RuntimeError("set_reference() first")
        s = self.settings
        pose, _ = fit_head_pose_robust(self._reference, driver)
        # Expression: undo the driver's head motion, compare with its neutral face.
        normalised = pose.inverse().apply(driver)
        delta = (normalised - self._reference) * s.expression
        m = self._to_target
        shaped = self.target + m.scale * delta @ m.rotation.T
        shaped, eyes = self._set_eyes(shaped, normalised, covered)
        shaped = self._keep_lips_apart(shaped)
        # Head motion, expressed in the target's own frame: M . P . M^-1.
        head = _slerp_identity(pose, s.pose)
        m_inv = m.inverse()
        rotation = m.rotation @ head.rotation @ m_inv.rotation
        scale = head.scale
        translation = m.apply(head.apply(m_inv.translation[None]))[0]
        target_head = Similarity(scale, rotation, translation)
        return TargetMotion(target_head.apply(shaped), target_head, eyes)

    def _set_eyes(self, shaped: Landmarks, normalised: Landmarks, covered: tuple[bool, ...]
                  ) -> tuple[Landmarks, EyeMotion]:
        """Each upper-lid point sits at the driver's opening ratio above its lower-lid
        point (the target's own eye shape, scaled); the iris hides behind the lids."""
        out = shaped.copy()
        s, target = self.settings, self.target
        pulled: list[NDArray[np.int_]] = []
        sources: list[Landmarks] = []
        hidden: list[NDArray[np.int_]] = []
        openness: list[float] = []
        for k, ((upper, lower, iris), ref_gap) in enumerate(zip(_EYES, self._ref_eye,
                                                               strict=True)):
            if covered[k]:
                ratio, driven_iris = self._last_ratio[k], target[iris]
            else:
                ratio = (_eye_ratio(normalised, upper, lower) / ref_gap - s.eye_shut_ratio)
                ratio = float(np.clip(ratio / (1.0 - s.eye_shut_ratio), 0.0, s.max_eye_ratio))
                self._last_ratio[k], driven_iris = ratio, shaped[iris]
            gap = target[upper] - target[lower]
            floor = s.shut_gap / np.maximum(np.linalg.norm(gap[:, :2], axis=1), 1e-6)
            out[upper] = shaped[lower] + np.maximum(ratio, floor)[:, None] * gap
            openness.append(min(ratio, 1.0))
            placed = place_iris(target[iris], driven_iris, (target[upper], target[lower]),
                                (out[upper], out[lower]), min(ratio, 1.0),
                                s.iris_hidden_below)
            out[iris] = placed.destination
            if placed.source is None:
                hidden.append(iris)
            else:
                pulled.append(iris)
                sources.append(placed.source)
        def indices(parts: list[NDArray[np.int_]]) -> NDArray[np.intp]:
            return np.concatenate(parts).astype(np.intp) if parts else _no_points()

        return out, EyeMotion(tuple(openness), indices(pulled),
                              np.concatenate(sources) if sources else np.zeros((0, 3)),
                              indices(hidden))

    def _keep_lips_apart(self, shaped: Landmarks) -> Landmarks:
        """The inner lower lip never crosses the upper one further than it does at rest."""
        down = self._down_2d
        gap = (shaped[_LIP_LOWER] - shaped[_LIP_UPPER]) @ down
        out = shaped.copy()
        out[_LIP_LOWER] -= np.outer(np.minimum(gap - self._rest_lip_gap, 0.0), down)
        return out
