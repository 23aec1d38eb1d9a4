from collections.abc import Callable

import numpy as np
from numpy.typing import NDArray
from scipy.spatial.transform import Rotation

from streamgan.tracking import landmarks as L
from streamgan.tracking.pose import (
    ROBUST_WIDTHS,
    fit_head_pose,
    fit_head_pose_robust,
    fit_similarity,
    fit_similarity_robust,
)

Array = NDArray[np.float64]


def test_fit_similarity_recovers_known_motion() -> None:
    rng = np.random.default_rng(1)
    pts = rng.normal(0, 50, (40, 3))
    rot = Rotation.from_euler("yxz", [20, -10, 5], degrees=True).as_matrix()
    moved = 1.3 * pts @ rot.T + np.array([5.0, -7.0, 2.0])
    sim, residual = fit_similarity(pts, moved)
    assert abs(sim.scale - 1.3) < 1e-9
    np.testing.assert_allclose(sim.rotation, rot, atol=1e-9)
    np.testing.assert_allclose(sim.apply(pts), moved, atol=1e-9)
    np.testing.assert_allclose(sim.inverse().apply(moved), pts, atol=1e-9)
    assert residual < 1e-9


def test_head_pose_ignores_expression(portrait_landmarks: Array) -> None:
    smiling = portrait_landmarks.copy()
    smiling[list(L.INNER_LIP_LOWER)] += (0, 15, 0)  # open the mouth
    sim, _ = fit_head_pose(portrait_landmarks, smiling)
    assert abs(sim.scale - 1) < 1e-6
    np.testing.assert_allclose(sim.rotation, np.eye(3), atol=1e-6)


def _rigid(lm: Array) -> tuple[Array, float]:
    pts = lm[list(L.RIGID)]
    return pts, float(np.sqrt(((pts - pts.mean(0)) ** 2).sum(1).mean()))


def _degrees(rotation: Array, truth: Array) -> float:
    return float(np.degrees(Rotation.from_matrix(rotation @ truth.T).magnitude()))


def test_robust_fit_recovers_the_head_despite_a_covered_patch(
        portrait_landmarks: Array) -> None:
    """7 of the 31 rigid points (23 %), a patch of neighbours as under a hand, pushed
    20 % of the face's spread off: the robust fit keeps the true pose, least squares (the
    control) is tilted by degrees."""
    pts, spread = _rigid(portrait_landmarks)
    robust: list[tuple[float, float, float]] = []
    plain: list[tuple[float, float, float]] = []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        rot = Rotation.from_euler("yxz", rng.uniform(-15, 15, 3), degrees=True).as_matrix()
        shift = rng.normal(0, 0.2 * spread, 3)
        moved = 1.1 * pts @ rot.T + shift + rng.normal(0, 0.003 * spread, pts.shape)
        patch = np.argsort(((pts - pts[rng.integers(len(pts))]) ** 2).sum(1))[:7]
        push = rng.normal(size=3)
        moved[patch] += (0.2 * spread * push / np.linalg.norm(push)
                         + rng.normal(0, 0.02 * spread, (7, 3)))
        for fit, errors in ((fit_similarity_robust, robust), (fit_similarity, plain)):
            sim, _ = fit(pts, moved)
            errors.append((_degrees(sim.rotation, rot), abs(sim.scale / 1.1 - 1),
                           float(np.linalg.norm(sim.translation - shift)) / spread))
    worst, typical_plain = np.max(robust, 0), np.mean(plain, 0)
    assert worst[0] < 0.3  # degrees
    assert worst[1] < 0.003 and worst[2] < 0.01
    assert typical_plain[0] > 1.5 and typical_plain[0] > 10 * np.mean(robust, 0)[0]
    assert typical_plain[1] > 3 * np.mean(robust, 0)[1]


def test_robust_fit_is_least_squares_without_outliers(
        portrait_landmarks: Array) -> None:
    pts, spread = _rigid(portrait_landmarks)
    rot = Rotation.from_euler("yxz", [12, -8, 4], degrees=True).as_matrix()
    moved = 0.9 * pts @ rot.T + np.array([20.0, -10.0, 5.0])
    exact, residual = fit_similarity_robust(pts, moved)
    assert abs(exact.scale - 0.9) < 1e-9 and residual < 1e-9
    np.testing.assert_allclose(exact.rotation, rot, atol=1e-9)
    np.testing.assert_allclose(exact.apply(pts), moved, atol=1e-9)
    # Tracker-like noise only (0.3 % of the spread, each coordinate): least squares'
    # answer, to within a fraction of the error this noise gives either fit (about 0.07
    # degrees and 5e-4 in scale).
    rng = np.random.default_rng(3)
    for _ in range(10):
        noisy = moved + rng.normal(0, 0.003 * spread, pts.shape)
        robust, plain = fit_similarity_robust(pts, noisy)[0], fit_similarity(pts, noisy)[0]
        assert _degrees(robust.rotation, plain.rotation) < 0.02
        assert abs(robust.scale / plain.scale - 1) < 3e-4
        np.testing.assert_allclose(robust.translation, plain.translation, atol=0.002 * spread)


def _hard_cut_fit(source: Array, target: Array) -> Array:
    """The control: the same widths, but each point wholly in or out of the fit."""
    keep = np.ones(len(source), bool)
    for width in ROBUST_WIDTHS:
        sim, _ = fit_similarity(source[keep], target[keep])
        r2 = ((sim.apply(source) - target) ** 2).sum(1)
        keep = r2 < np.median(r2) * width**2
    return fit_similarity(source[keep], target[keep])[0].rotation


def test_robust_fit_moves_smoothly_as_a_point_strays(portrait_landmarks: Array) -> None:
    """A squint lifting one cheek, a little more each frame: the robust pose stays put,
    never stepping further between frames than least squares' steady drift; cutting
    points out (the control) makes the head jump the frame a point drops out."""
    pts, spread = _rigid(portrait_landmarks)
    face = pts + np.random.default_rng(0).normal(0, 0.005 * spread, pts.shape)
    cheek = [list(L.RIGID).index(i) for i in (116, 123, 93)]
    fits: dict[str, Callable[[Array], Array]] = {
        "robust": lambda f: fit_similarity_robust(pts, f)[0].rotation,
        "plain": lambda f: fit_similarity(pts, f)[0].rotation,
        "cut": lambda f: _hard_cut_fit(pts, f),
    }
    steps: dict[str, list[float]] = {}
    for name, fit in fits.items():
        poses = []
        for lift in np.linspace(0, 0.3, 151):
            frame = face.copy()
            frame[cheek, 1] -= lift * spread
            poses.append(fit(frame))
        steps[name] = [_degrees(b, a) for a, b in zip(poses[:-1], poses[1:], strict=True)]
        if name == "robust":
            assert _degrees(poses[-1], np.eye(3)) < 0.3
        if name == "plain":
            assert _degrees(poses[-1], np.eye(3)) > 2.0
    assert max(steps["robust"]) <= max(steps["plain"])
    assert max(steps["cut"]) > 4 * max(steps["plain"])


def test_talking_does_not_nod_the_head(portrait_landmarks: Array) -> None:
    """An open mouth as FaceMesh reads it: the jaw's side contour (6 "rigid" points) drops
    with the chin and the cheekbones sag a little. The head did not move: the robust
    pose's pitch stays near 0 while least squares' (the control) nods by degrees."""
    lm = portrait_landmarks
    talking = lm.copy()
    height = L.face_height(lm)
    talking[list(L.INNER_LIP_LOWER) + [L.CHIN], 1] += 0.08 * height
    talking[[234, 454, 127, 356, 93, 323], 1] += 0.05 * height
    talking[[116, 345, 123, 352], 1] += 0.015 * height

    def pitch(rotation: Array) -> float:
        return float(Rotation.from_matrix(rotation).as_euler("yxz", degrees=True)[1])

    robust, _ = fit_head_pose_robust(lm, talking)
    plain, _ = fit_head_pose(lm, talking)
    assert abs(pitch(robust.rotation)) < 0.3
    assert _degrees(robust.rotation, np.eye(3)) < 0.3 and abs(robust.scale - 1) < 0.002
    assert abs(pitch(plain.rotation)) > 2.0
