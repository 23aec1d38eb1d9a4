import numpy as np
from scipy.spatial.transform import Rotation

from streamgan.tracking.pose import fit_head_pose, fit_similarity


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


def test_head_pose_ignores_expression(portrait_landmarks: np.ndarray) -> None:
    from streamgan.tracking import landmarks as L

    smiling = portrait_landmarks.copy()
    smiling[list(L.INNER_LIP_LOWER)] += (0, 15, 0)  # open the mouth
    sim, _ = fit_head_pose(portrait_landmarks, smiling)
    assert abs(sim.scale - 1) < 1e-6
    np.testing.assert_allclose(sim.rotation, np.eye(3), atol=1e-6)
