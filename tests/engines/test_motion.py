"""Relative motion transfer on synthetic driver motion with known answers."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from streamgan.engines.warp.motion import MotionTransfer
from streamgan.tracking import landmarks as L


def _rotate(lm: np.ndarray, yaw: float = 0, pitch: float = 0, roll: float = 0) -> np.ndarray:
    rot = Rotation.from_euler("yxz", [yaw, pitch, roll], degrees=True).as_matrix()
    centre = lm.mean(0)
    return np.asarray((lm - centre) @ rot.T + centre)


def test_neutral_driver_leaves_target_unchanged(portrait_landmarks: np.ndarray,
                                                astronaut_landmarks: np.ndarray) -> None:
    m = MotionTransfer(portrait_landmarks)
    m.set_reference(astronaut_landmarks)
    out = m.transfer(astronaut_landmarks).landmarks
    np.testing.assert_allclose(out, portrait_landmarks, atol=1e-6)


def test_head_rotation_transfers_as_relative_angles(portrait_landmarks: np.ndarray,
                                                    astronaut_landmarks: np.ndarray) -> None:
    m = MotionTransfer(portrait_landmarks)
    m.set_reference(astronaut_landmarks)
    base = np.array(L.head_angles(portrait_landmarks))
    drv0 = np.array(L.head_angles(astronaut_landmarks))
    for yaw, pitch, roll in [(15, 0, 0), (0, 10, 0), (0, 0, -8), (12, -6, 5)]:
        driver = _rotate(astronaut_landmarks, yaw, pitch, roll)
        out = m.transfer(driver).landmarks
        got = np.array(L.head_angles(out)) - base
        want = np.array(L.head_angles(driver)) - drv0
        np.testing.assert_allclose(got, want, atol=2.0)


def test_blink_closes_target_eyes_whatever_their_size(portrait_landmarks: np.ndarray,
                                                      astronaut_landmarks: np.ndarray) -> None:
    m = MotionTransfer(portrait_landmarks)
    m.set_reference(astronaut_landmarks)
    blink = astronaut_landmarks.copy()
    for up, low in L.EYELID_PAIRS:
        blink[up] = blink[low]
    out = m.transfer(blink).landmarks
    assert L.eye_opening(out) < 0.02
    assert L.eye_opening(portrait_landmarks) > 0.15


def test_mouth_opening_scales_to_target_and_keeps_its_shape(
        portrait_landmarks: np.ndarray, astronaut_landmarks: np.ndarray) -> None:
    m = MotionTransfer(portrait_landmarks)
    m.set_reference(astronaut_landmarks)
    opened = astronaut_landmarks.copy()
    drop = 0.25 * L.interocular(astronaut_landmarks)
    for idx in (*L.INNER_LIP_LOWER, *L.OUTER_LIP_RING[11:], L.CHIN):
        opened[idx, 1] += drop
    out = m.transfer(opened).landmarks
    gap = out[14, 1] - out[13, 1]
    expected = drop * L.interocular(portrait_landmarks) / L.interocular(astronaut_landmarks)
    assert abs(gap - expected) < 0.25 * expected
    # Identity: the target's eye spacing and nose do not take the driver's shape.
    assert abs(L.interocular(out) - L.interocular(portrait_landmarks)) < 1.0


def test_lips_never_cross(portrait_landmarks: np.ndarray,
                          astronaut_landmarks: np.ndarray) -> None:
    m = MotionTransfer(portrait_landmarks)
    m.set_reference(astronaut_landmarks)
    pursed = astronaut_landmarks.copy()
    pursed[list(L.INNER_LIP_LOWER), 1] -= 0.3 * L.interocular(astronaut_landmarks)
    out = m.transfer(pursed).landmarks
    gap = out[list(L.INNER_LIP_LOWER), :2] - out[list(L.INNER_LIP_UPPER), :2]
    down = out[L.CHIN, :2] - out[L.FOREHEAD, :2]
    assert (gap @ (down / np.linalg.norm(down)) >= -1.0).all()  # at most the rest overlap
