import numpy as np
import pytest

from streamgan.engines.warp.mesh import (
    DenseMap,
    Grid,
    Roi,
    backward_map,
    even_roi,
    rect_border_points,
)


def _scene() -> tuple[np.ndarray, np.ndarray, Roi]:
    roi = Roi(100, 50, 400, 350)
    border = rect_border_points(roi, 6)
    inner = np.random.default_rng(1).uniform([170, 120], [330, 280], (300, 2))
    return border, inner, roi


def test_translated_points_give_an_exact_shift_inside_and_identity_at_the_edge() -> None:
    border, inner, roi = _scene()
    src = np.vstack([border, inner])
    dst = np.vstack([border, inner + (6, -4)])
    m = backward_map(src, dst, roi, step=3, details=[(Roi(180, 130, 320, 270), 2)]).luma()
    assert m.shape == (roi.height, roi.width, 2) and m.dtype == np.float32
    # A pixel well inside the moved cloud samples the source 6 px left, 4 px down.
    np.testing.assert_allclose(m[200 - 50, 250 - 100], (244, 204), atol=0.05)
    np.testing.assert_allclose(m[0, 0], (100, 50), atol=0.05)
    np.testing.assert_allclose(m[-1, -1], (399, 349), atol=1.0)


def test_unmoved_points_give_identity_everywhere() -> None:
    border, inner, roi = _scene()
    src = np.vstack([border, inner])
    m = backward_map(src, src, roi, step=4).luma()
    ys, xs = np.mgrid[roi.y0:roi.y1, roi.x0:roi.x1]
    np.testing.assert_allclose(m[..., 0], xs, atol=0.01)
    np.testing.assert_allclose(m[..., 1], ys, atol=0.01)


def test_even_roi_is_clipped_and_even() -> None:
    roi = even_roi(np.array([[-5.0, 3.3], [641.0, 99.1]]), 640, 360)
    assert (roi.x0, roi.y0) == (0, 2) and roi.x1 == 640 and roi.y1 % 2 == 0 and roi.y1 >= 100


def test_chroma_map_is_the_luma_map_on_the_half_plane() -> None:
    border, inner, roi = _scene()
    src = np.vstack([border, inner])
    dst = np.vstack([border, inner + (6, -4)])
    dense = backward_map(src, dst, roi, step=3, details=[(Roi(180, 130, 320, 270), 2)])
    c = DenseMap.chroma(dense.luma())
    half = roi.half
    assert c.shape == (half.height, half.width, 2)
    # Chroma sample (125, 100) sits inside the moved cloud: it samples 3 left, 2 down.
    np.testing.assert_allclose(c[100 - half.y0, 125 - half.x0], (122, 102), atol=0.05)
    np.testing.assert_allclose(c[0, 0], (half.x0, half.y0), atol=0.05)


def test_node_lookup_agrees_with_scipy_find_simplex() -> None:
    """The grid's own triangle search (barycentric, per bounding box) picks the same
    affine as scipy's find_simplex for every node, on a warped random mesh."""
    from scipy.spatial import Delaunay

    from streamgan.engines.warp.mesh import PiecewiseAffine

    border, inner, roi = _scene()
    rng = np.random.default_rng(5)
    src = np.vstack([border, inner])
    dst = np.vstack([border, inner + rng.normal(0, 3, inner.shape)])
    warp = PiecewiseAffine(src, dst)
    grid = warp.sample(roi, 3)
    gh, gw = grid.nodes.shape[:2]
    gx, gy = np.meshgrid(Grid.positions(roi.x0, 3, gw), Grid.positions(roi.y0, 3, gh))
    nodes = np.stack([gx.ravel(), gy.ravel()], 1).astype(np.float64)
    tri = Delaunay(dst)
    simplex = tri.find_simplex(nodes)
    expected = np.array(nodes)
    inside = simplex >= 0
    # The affine of the node's triangle, from barycentric coordinates on dst -> src.
    t = tri.transform[simplex[inside]]
    bary = np.einsum("nij,nj->ni", t[:, :2], nodes[inside] - t[:, 2])
    weights = np.column_stack([bary, 1 - bary.sum(1)])
    expected[inside] = np.einsum("ni,nij->nj", weights, src[tri.simplices[simplex[inside]]])
    np.testing.assert_allclose(grid.nodes.reshape(-1, 2), expected, atol=0.02)
    assert inside.mean() > 0.3 and (~inside).any()


@pytest.mark.parametrize("step", [1, 2, 3, 5])
def test_an_affine_motion_is_mapped_exactly_at_every_pixel(step: int) -> None:
    """Points moved by one affine give that affine at every pixel of the roi, luma and
    chroma, for any grid step: the upsampling is aligned to the pixel, edges included."""
    roi = Roi(100, 50, 400, 350)
    rng = np.random.default_rng(2)
    dst = np.vstack([rect_border_points(Roi(80, 30, 420, 370), 6),
                     rng.uniform([120, 70], [380, 330], (200, 2))])
    a = np.array([[1.05, 0.08, -9.0], [-0.06, 0.97, 7.0]])
    src = dst @ a[:, :2].T + a[:, 2]
    dense = backward_map(src, dst, roi, step, details=[(Roi(200, 150, 300, 250), 1)])
    ys, xs = np.mgrid[roi.y0:roi.y1, roi.x0:roi.x1].astype(np.float64)
    want = np.stack([xs, ys], -1) @ a[:, :2].T + a[:, 2]
    np.testing.assert_allclose(dense.luma(), want, atol=0.01)
    half = roi.half
    cy, cx = np.mgrid[half.y0:half.y1, half.x0:half.x1].astype(np.float64)
    luma_at = np.stack([2 * cx + 0.5, 2 * cy + 0.5], -1) @ a[:, :2].T + a[:, 2]
    np.testing.assert_allclose(DenseMap.chroma(dense.luma()), (luma_at - 0.5) / 2, atol=0.01)


def test_the_kept_triangulation_is_reused_until_a_triangle_would_flip() -> None:
    from streamgan.engines.warp.mesh import Topology

    border, inner, roi = _scene()
    rng = np.random.default_rng(3)
    points = np.vstack([border, inner])
    hull_area = (roi.width - 1) * (roi.height - 1)

    def covered(simplices: np.ndarray, pts: np.ndarray) -> float:
        d = pts[simplices]
        d1, d2 = d[:, 1] - d[:, 0], d[:, 2] - d[:, 0]
        return float(np.abs(d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]).sum() / 2)

    topology = Topology()
    first = topology.simplices(points)
    jittered = points.copy()
    jittered[len(border):] += rng.normal(0, 0.05, inner.shape)  # a still face's noise
    assert topology.simplices(jittered) is first and topology.rebuilt == 1
    # A point dragged across its neighbours would fold the kept mesh: re-triangulated,
    # and the new mesh covers the hull exactly once (no overlap, no gap).
    dragged = jittered.copy()
    dragged[len(border)] = dragged[len(border) + 1] + (40.0, 25.0)
    again = topology.simplices(dragged)
    assert topology.rebuilt == 2
    assert abs(covered(again, dragged) - hull_area) < 1e-6 * hull_area
    assert abs(covered(first, dragged) - hull_area) > 1.0  # the kept mesh would fold
    # Another point set (an eye's iris leaving the mesh) is always re-triangulated.
    topology.simplices(dragged[:-1], key=(1,))
    assert topology.rebuilt == 3
