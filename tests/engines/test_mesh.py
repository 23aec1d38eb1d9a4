import numpy as np

from streamgan.engines.warp.mesh import Roi, backward_map, even_roi, rect_border_points


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
    c = dense.chroma()
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
    gx, gy = np.meshgrid(roi.x0 + np.arange(gw) * 3, roi.y0 + np.arange(gh) * 3)
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
