"""Dense backward maps from moved control points, built vectorised.

For every output pixel we need where to sample the target image. The moved points
are triangulated (Delaunay, kept from frame to frame while no triangle flips, so a
mesh is never invalid whatever the motion), each triangle gets the affine map back
to the source, and the map is evaluated on a coarse grid and upsampled with
``cv2.resize``: piecewise-linear maps are smooth enough for that, and it keeps the
cost to a few ms a frame whatever the face size: fine steps on the face, where lids
and lips move, every pixel on the eyes, coarse steps on the hair and neck around
it. ``cv2.remap`` then applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray
from scipy.spatial import Delaunay

Points2 = NDArray[np.float64]

_FLAT = 1e-9
"""Twice a triangle's area (px^2) below which it is flat: it contains no grid node."""
_EDGE = 1e-9
_SLIVER = 0.5
"""Area (px^2) under which a flipped triangle of a kept mesh is tolerated."""
"""Barycentric slack, so a node on an edge belongs to a triangle on either side."""


@dataclass(frozen=True)
class Roi:
    """A rectangle of the picture: x0, y0 inclusive, x1, y1 exclusive; even corners."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.y0, self.y1), slice(self.x0, self.x1)

    @property
    def half(self) -> Roi:
        """The same rectangle on a half-resolution (chroma) plane."""
        return Roi(self.x0 // 2, self.y0 // 2, self.x1 // 2, self.y1 // 2)


def even_roi(points: Points2, width: int, height: int) -> Roi:
    """The bounding box of ``points`` clipped to the picture, with even corners."""
    x0, y0 = np.floor(points.min(0)).astype(int)
    x1, y1 = np.ceil(points.max(0)).astype(int) + 1
    x0, y0 = max(0, x0) // 2 * 2, max(0, y0) // 2 * 2
    x1, y1 = min(width, (x1 + 1) // 2 * 2), min(height, (y1 + 1) // 2 * 2)
    return Roi(int(x0), int(y0), int(x1), int(y1))


class Topology:
    """Which points form the mesh's triangles, kept from frame to frame.

    A Delaunay triangulation is redone only when a triangle of the kept one would
    flip (or the point set changes): as long as every triangle keeps its orientation
    and the outer points stay put, the kept mesh is still valid. That saves the
    triangulation (about 1 ms a frame) and keeps the map free of the small jumps a
    re-triangulation makes when two nearly equal diagonals swap on a still face.
    """

    def __init__(self) -> None:
        self._key: object = None
        self._simplices: NDArray[np.intp] | None = None
        self._orientation: NDArray[np.bool_] | None = None
        self.rebuilt = 0
        """How many times the triangulation was (re)computed."""

    def simplices(self, dst: Points2, key: object = None) -> NDArray[np.intp]:
        """Triangles (indices into ``dst``) valid for the points ``dst``; ``key`` names
        the point set (a change of key always re-triangulates)."""
        if self._simplices is not None and key == self._key:
            area = _twice_area(dst, self._simplices)
            flipped = (area > 0) != self._orientation
            # Sliver triangles (lips pressed together, a shut eye's lids) flip with
            # tracking noise: a flip under _SLIVER px^2 folds over no whole pixel.
            if not (flipped & (np.abs(area) > 2 * _SLIVER)).any():
                return self._simplices
        simplices = np.asarray(Delaunay(dst).simplices, np.intp)
        self._key, self._simplices = key, simplices
        self._orientation = _twice_area(dst, simplices) > 0
        self.rebuilt += 1
        return simplices


def _twice_area(points: Points2, simplices: NDArray[np.intp]) -> NDArray[np.float64]:
    """Signed doubled area of each triangle (its orientation)."""
    d = points[simplices]
    d1, d2 = d[:, 1] - d[:, 0], d[:, 2] - d[:, 0]
    return np.asarray(d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1], np.float64)


class PiecewiseAffine:
    """The backward map defined by moved points, ready to be sampled on grids.

    ``src[i]`` is where point ``i`` sits in the source image and ``dst[i]`` where it
    must appear. Output pixels outside the moved points' hull map to themselves.
    ``simplices`` are the mesh's triangles; by default ``dst``'s Delaunay triangles.
    """

    def __init__(self, src: Points2, dst: Points2,
                 simplices: NDArray[np.intp] | None = None) -> None:
        if simplices is None:
            simplices = np.asarray(Delaunay(dst).simplices, np.intp)
        # Per-triangle affine taking output positions to source positions, in closed
        # form: src = s0 + S D^-1 (q - d0) with D, S the triangles' edge matrices.
        d = dst[simplices]  # (T, 3, 2)
        c = src[simplices]
        d1, d2 = d[:, 1] - d[:, 0], d[:, 2] - d[:, 0]
        det = d1[:, 0] * d2[:, 1] - d2[:, 0] * d1[:, 1]
        det = np.where(np.abs(det) < 1e-12, 1e-12, det)  # flat triangles contain no pixel
        inv = np.stack([np.stack([d2[:, 1], -d2[:, 0]], 1),
                        np.stack([-d1[:, 1], d1[:, 0]], 1)], 1)
        inv /= det[:, None, None]  # rows of D^-1
        edges = np.stack([c[:, 1] - c[:, 0], c[:, 2] - c[:, 0]], axis=2)  # (T, 2, 2): S
        linear = np.einsum("tij,tjk->tik", edges, inv)
        offset = c[:, 0] - np.einsum("tij,tj->ti", linear, d[:, 0])
        # A row per triangle: [a_xx, a_xy, b_x, a_yx, a_yy, b_y]; the last row, picked
        # by -1 for nodes outside the moved points' hull, is the identity.
        table = np.concatenate([linear[:, 0], offset[:, :1], linear[:, 1], offset[:, 1:]], 1)
        self._table = np.vstack([table, [1, 0, 0, 0, 1, 0]]).astype(np.float32)
        # For locating grid nodes: D^-1 gives a node's barycentric coordinates; a flat
        # triangle (no area, no pixel inside) is searched nowhere.
        self._origin, self._to_barycentric = d[:, 0], inv
        self._lo, self._hi = d.min(1), d.max(1)
        self._solid = (np.abs(det) >= _FLAT)[:, None]

    def sample(self, roi: Roi, step: int) -> Grid:
        """The map evaluated exactly on a grid of ``step``-pixel blocks covering ``roi``.

        Node ``j`` sits at the centre of block ``j - 1`` (see :class:`Grid`): a plain
        ``cv2.resize`` by ``step`` then interpolates between nodes exactly, and one
        node past each side keeps its edge clamping outside ``roi``.
        """
        gw = -(-roi.width // step) + 2
        gh = -(-roi.height // step) + 2
        qx = np.broadcast_to(Grid.positions(roi.x0, step, gw), (gh, gw)).ravel()
        qy = np.broadcast_to(Grid.positions(roi.y0, step, gh)[:, None], (gh, gw)).ravel()
        k = self._table[self._locate(qx[0], qy[0], step, gw, gh)]
        mapped = np.empty((gh * gw, 2), np.float32)
        mapped[:, 0] = k[:, 0] * qx + k[:, 1] * qy + k[:, 2]
        mapped[:, 1] = k[:, 3] * qx + k[:, 4] * qy + k[:, 5]
        return Grid(roi, step, mapped.reshape(gh, gw, 2))

    def _locate(self, x0: float, y0: float, step: int, gw: int, gh: int) -> NDArray[np.intp]:
        """The triangle holding each node of a ``gw`` x ``gh`` grid (row-major) whose
        first node is at (``x0``, ``y0``), ``step`` apart; -1 outside the mesh.

        Each triangle tests only the nodes inside its bounding box, with the
        barycentric transform the affine table was built from. ``find_simplex`` would
        first compute scipy's own transform for every triangle, which alone takes
        longer (about 2 ms a frame for a face) than this search of both grids.
        """
        origin = np.array([x0, y0])
        lo = np.ceil((self._lo - origin) / step)
        hi = np.floor((self._hi - origin) / step)
        lo = np.maximum(lo, 0).astype(np.intp)
        hi = np.minimum(hi, (gw - 1, gh - 1)).astype(np.intp)
        span = np.maximum(hi - lo + 1, 0) * self._solid  # nodes per triangle's box: x, y
        counts = span[:, 0] * span[:, 1]
        tri = np.repeat(np.arange(len(counts)), counts)
        first = np.cumsum(counts) - counts
        k = np.arange(len(tri)) - first[tri]  # the candidate's index within its box
        col = lo[tri, 0] + k % span[tri, 0]
        row = lo[tri, 1] + k // span[tri, 0]
        rel_x = x0 + col * float(step) - self._origin[tri, 0]
        rel_y = y0 + row * float(step) - self._origin[tri, 1]
        to_bary = self._to_barycentric[tri]
        b1 = to_bary[:, 0, 0] * rel_x + to_bary[:, 0, 1] * rel_y
        b2 = to_bary[:, 1, 0] * rel_x + to_bary[:, 1, 1] * rel_y
        inside = (b1 >= -_EDGE) & (b2 >= -_EDGE) & (b1 + b2 <= 1.0 + _EDGE)
        found = np.full(gh * gw, -1, np.intp)
        # A node on a shared edge is claimed twice; both triangles map it alike.
        found[row[inside] * gw + col[inside]] = tri[inside]
        return found


@dataclass(frozen=True)
class Grid:
    """Exact map values at grid nodes, one per ``step`` x ``step`` block: node (i, j)
    is the centre of the block that starts at pixel (roi.x0 + (j-1)*step, roi.y0 +
    (i-1)*step), so the grid reaches one block past each side of the roi. The map is
    piecewise linear, so bilinear interpolation between nodes finer than its
    triangles loses almost nothing."""

    roi: Roi
    step: int
    nodes: NDArray[np.float32]

    @staticmethod
    def positions(start: int, step: int, count: int) -> NDArray[np.float32]:
        """Pixel coordinates of ``count`` nodes along one axis from ``start``."""
        return np.asarray(start + (np.arange(count) - 0.5) * step - 0.5, np.float32)

    def luma(self) -> NDArray[np.float32]:
        """The map for every pixel of the roi, ``(height, width, 2)`` absolute (x, y).

        ``cv2.resize`` samples node coordinate (i + 0.5) / step - 0.5 for output
        pixel i: by the nodes' placement that is pixel roi.x0 + i - step, so the roi
        starts ``step`` pixels in. (About ten times faster than ``cv2.warpAffine``.)
        """
        s, roi = self.step, self.roi
        if s == 1:
            full = self.nodes
        else:
            gh, gw = self.nodes.shape[:2]
            full = cv2.resize(self.nodes, (gw * s, gh * s), interpolation=cv2.INTER_LINEAR)
        return np.asarray(full[s:s + roi.height, s:s + roi.width], np.float32)


@dataclass(frozen=True)
class DenseMap:
    """A coarse grid over the whole roi and finer ones laid over it, in order: the face,
    then the eyes, where a lid's gap is thinner than the face's step."""

    coarse: Grid
    fine: tuple[Grid, ...] = ()

    def luma(self) -> NDArray[np.float32]:
        """``(roi.height, roi.width, 2)``: for each output pixel, the source (x, y)."""
        mapping = self.coarse.luma()
        for grid in self.fine:
            ys, xs = _inside(grid.roi, self.coarse.roi)
            mapping[ys, xs] = grid.luma()
        return mapping

    @staticmethod
    def chroma(luma: NDArray[np.float32]) -> NDArray[np.float32]:
        """The map ``luma`` (from :meth:`luma`) for the half-resolution chroma planes
        over ``roi.half``.

        Chroma sample c sits at luma position 2c + 0.5, the mean of luma pixels 2c and
        2c + 1 (exact where the map is linear), and a luma coordinate m is chroma
        coordinate (m - 0.5) / 2.
        """
        height, width = luma.shape[:2]
        half = cv2.resize(luma, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
        half -= 0.5
        half *= 0.5
        return np.asarray(half, np.float32)


def _inside(inner: Roi, outer: Roi) -> tuple[slice, slice]:
    return (slice(inner.y0 - outer.y0, inner.y1 - outer.y0),
            slice(inner.x0 - outer.x0, inner.x1 - outer.x0))


def backward_map(src: Points2, dst: Points2, roi: Roi, step: int,
                 details: Sequence[tuple[Roi, int]] = (),
                 simplices: NDArray[np.intp] | None = None) -> DenseMap:
    """Where each output pixel of ``roi`` samples the source.

    The map is sampled every ``step`` pixels, and inside each ``(roi, step)`` of
    ``details`` at that roi's own step; later details are laid over earlier ones.
    ``simplices``: the triangles to use (from a :class:`Topology`), else Delaunay's.
    """
    affine = PiecewiseAffine(src, dst, simplices)
    fine = []
    for detail, detail_step in details:
        inner = Roi(max(detail.x0, roi.x0), max(detail.y0, roi.y0),
                    min(detail.x1, roi.x1), min(detail.y1, roi.y1))
        if inner.width > 0 and inner.height > 0:
            fine.append(affine.sample(inner, detail_step))
    return DenseMap(affine.sample(roi, step), tuple(fine))


def ellipse_points(center: NDArray[np.float64], axes: tuple[float, float], count: int,
                   angle: float = 0.0) -> Points2:
    """``count`` points evenly spaced in angle on an ellipse (rotated by ``angle`` rad)."""
    t = np.linspace(0, 2 * np.pi, count, endpoint=False)
    x, y = axes[0] * np.cos(t), axes[1] * np.sin(t)
    c, s = np.cos(angle), np.sin(angle)
    return np.asarray(center + np.stack([c * x - s * y, s * x + c * y], axis=1))


def rect_border_points(roi: Roi, per_side: int) -> Points2:
    """Points along the edges of ``roi`` (corners included), used as fixed anchors."""
    xs = np.linspace(roi.x0, roi.x1 - 1, per_side + 1)
    ys = np.linspace(roi.y0, roi.y1 - 1, per_side + 1)
    top = np.stack([xs, np.full_like(xs, roi.y0)], 1)
    bottom = np.stack([xs, np.full_like(xs, roi.y1 - 1)], 1)
    left = np.stack([np.full_like(ys[1:-1], roi.x0), ys[1:-1]], 1)
    right = np.stack([np.full_like(ys[1:-1], roi.x1 - 1), ys[1:-1]], 1)
    return np.concatenate([top, bottom, left, right])
