"""Dense backward maps from moved control points, built vectorised.

For every output pixel we need where to sample the target image. The moved points
are triangulated (Delaunay, so a mesh can never be invalid, whatever the motion),
each triangle gets the affine map back to the source, and the map is evaluated on
a coarse grid and upsampled: piecewise-linear maps are smooth enough for that, and
it keeps the cost near 5 ms a frame whatever the face size: fine steps on the
face, where lids and lips move, coarse ones on the hair and neck around it. ``cv2.remap`` then
applies it.
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


class PiecewiseAffine:
    """The backward map defined by moved points, ready to be sampled on grids.

    ``src[i]`` is where point ``i`` sits in the source image and ``dst[i]`` where it
    must appear. Output pixels outside the moved points' hull map to themselves.
    """

    def __init__(self, src: Points2, dst: Points2) -> None:
        simplices = Delaunay(dst).simplices
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
        """The map evaluated exactly at every ``step``-th pixel of ``roi`` (and one past)."""
        gw = (roi.width + step - 1) // step + 1
        gh = (roi.height + step - 1) // step + 1
        gx = (roi.x0 + np.arange(gw) * step).astype(np.float32)
        gy = (roi.y0 + np.arange(gh) * step).astype(np.float32)
        qx = np.broadcast_to(gx, (gh, gw)).ravel()
        qy = np.broadcast_to(gy[:, None], (gh, gw)).ravel()
        k = self._table[self._locate(roi, step, gw, gh)]
        mapped = np.empty((gh * gw, 2), np.float32)
        mapped[:, 0] = k[:, 0] * qx + k[:, 1] * qy + k[:, 2]
        mapped[:, 1] = k[:, 3] * qx + k[:, 4] * qy + k[:, 5]
        return Grid(roi, step, mapped.reshape(gh, gw, 2))

    def _locate(self, roi: Roi, step: int, gw: int, gh: int) -> NDArray[np.intp]:
        """The triangle holding each node of the grid (row-major), -1 outside the mesh.

        Each triangle tests only the nodes inside its bounding box, with the
        barycentric transform the affine table was built from. ``find_simplex`` would
        first compute scipy's own transform for every triangle, which alone takes
        longer (about 2 ms a frame for a face) than this search of both grids.
        """
        lo = np.ceil((self._lo - (roi.x0, roi.y0)) / step)
        hi = np.floor((self._hi - (roi.x0, roi.y0)) / step)
        lo = np.maximum(lo, 0).astype(np.intp)
        hi = np.minimum(hi, (gw - 1, gh - 1)).astype(np.intp)
        span = np.maximum(hi - lo + 1, 0) * self._solid  # nodes per triangle's box: x, y
        counts = span[:, 0] * span[:, 1]
        tri = np.repeat(np.arange(len(counts)), counts)
        first = np.cumsum(counts) - counts
        k = np.arange(len(tri)) - first[tri]  # the candidate's index within its box
        col = lo[tri, 0] + k % span[tri, 0]
        row = lo[tri, 1] + k // span[tri, 0]
        rel_x = roi.x0 + col * float(step) - self._origin[tri, 0]
        rel_y = roi.y0 + row * float(step) - self._origin[tri, 1]
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
    """Exact map values at grid nodes: node (i, j) sits at pixel roi.x0 + j*step,
    roi.y0 + i*step. The map is piecewise linear, so bilinear interpolation between
    nodes finer than its triangles loses almost nothing."""

    roi: Roi
    step: int
    nodes: NDArray[np.float32]

    def luma(self) -> NDArray[np.float32]:
        """The map for every pixel of the roi, ``(height, width, 2)`` absolute (x, y)."""
        to_nodes = np.array([[1.0 / self.step, 0, 0], [0, 1.0 / self.step, 0]])
        return self._upsample(to_nodes, self.roi.width, self.roi.height)

    def chroma(self) -> NDArray[np.float32]:
        """The map for a half-resolution (yuv420p chroma) plane over ``roi.half``.

        Chroma sample c sits at luma position 2c + 0.5 and a luma coordinate m is chroma
        coordinate (m - 0.5) / 2; built from the nodes, not by shrinking the luma map.
        """
        s = self.step
        to_nodes = np.array([[2.0 / s, 0, 0.5 / s], [0, 2.0 / s, 0.5 / s]])
        half = self._upsample(to_nodes, self.roi.width // 2, self.roi.height // 2)
        half -= 0.5
        half *= 0.5
        return half

    def _upsample(self, to_nodes: NDArray[np.float64], width: int,
                  height: int) -> NDArray[np.float32]:
        # warpAffine with an exact inverse scale: cv2.resize would align pixel centres
        # instead and shift the map by a fraction of a step.
        out = cv2.warpAffine(self.nodes, to_nodes, (width, height),
                             flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                             borderMode=cv2.BORDER_REPLICATE)
        return np.asarray(out, np.float32)


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

    def chroma(self) -> NDArray[np.float32]:
        """The same map for the half-resolution chroma planes over ``roi.half``."""
        mapping = self.coarse.chroma()
        for grid in self.fine:
            ys, xs = _inside(grid.roi.half, self.coarse.roi.half)
            mapping[ys, xs] = grid.chroma()
        return mapping


def _inside(inner: Roi, outer: Roi) -> tuple[slice, slice]:
    return (slice(inner.y0 - outer.y0, inner.y1 - outer.y0),
            slice(inner.x0 - outer.x0, inner.x1 - outer.x0))


def backward_map(src: Points2, dst: Points2, roi: Roi, step: int,
                 details: Sequence[tuple[Roi, int]] = ()) -> DenseMap:
    """Where each output pixel of ``roi`` samples the source.

    The map is sampled every ``step`` pixels, and inside each ``(roi, step)`` of
    ``details`` at that roi's own step; later details are laid over earlier ones.
    """
    affine = PiecewiseAffine(src, dst)
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
