"""Generate streamgan's committed sample media: a target portrait and a scripted driver video.

Both faces are made up: each is a landmark-based morph of the two public-domain portraits that
ship inside installed packages (scikit-image's ``astronaut`` and matplotlib's ``grace_hopper``),
so no real person is depicted.  The driver is animated along a known motion script (head pose,
blinks, mouth, smile, gaze) with a piecewise-affine triangle-mesh warp, and the script is written
next to the video as per-frame ground truth for the tests.

Run ``python samples/make_samples.py`` to regenerate ``target.png``, ``driver.mp4`` and
``driver_script.json``; add ``--check`` to measure the written files with MediaPipe and print
how well the measured face follows the script.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import NamedTuple

import av
import cv2
import matplotlib
import mediapipe as mp
import numpy as np
import skimage.data
from numpy.typing import ArrayLike, NDArray
from PIL import Image
from scipy.spatial import Delaunay

from streamgan.tracking import landmarks as lmk
from streamgan.tracking.facemesh import detect_still
from streamgan.tracking.measures import measure_video

log = logging.getLogger("make_samples")

Array = NDArray[np.float64]
Image32 = NDArray[np.float32]

SAMPLES_DIR = Path(__file__).resolve().parent
TARGET_PATH = SAMPLES_DIR / "target.png"
DRIVER_PATH = SAMPLES_DIR / "driver.mp4"
SCRIPT_PATH = SAMPLES_DIR / "driver_script.json"

WIDTH, HEIGHT = 640, 360
FPS = 25
DURATION_S = 9.0
AUDIO_RATE = 48_000
VIDEO_CRF = 26
MESH_POINTS = 468
"""FaceMesh points without the iris points: the iris moves inside the eye, not with the mesh."""


# --------------------------------------------------------------------------------------------
# Source portraits and MediaPipe helpers
# --------------------------------------------------------------------------------------------


def load_sources() -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
    """The two public-domain portraits (RGB): NASA's astronaut photo and Grace Hopper's."""
    portrait = skimage.data.astronaut()  # type: ignore[no-untyped-call]
    astronaut = np.ascontiguousarray(portrait[..., :3])
    path = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data",
                        "grace_hopper.jpg")
    with Image.open(path) as image:
        hopper = np.asarray(image.convert("RGB"))
    return astronaut, hopper


def detect_one_face(rgb: NDArray[np.uint8]) -> Array:
    """Landmarks of the single face in ``rgb``; fail loudly if MediaPipe finds none."""
    faces = detect_still(rgb, max_faces=1)
    if not faces:
        raise RuntimeError("MediaPipe found no face")
    return faces[0]


def person_mask(rgb: NDArray[np.uint8]) -> Image32:
    """Soft person matte from MediaPipe selfie segmentation, edges tightened a little."""
    with mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        mask = seg.process(np.ascontiguousarray(rgb)).segmentation_mask
    return np.asarray(np.clip((mask.astype(np.float32) - 0.58) * 3.0 + 0.5, 0.0, 1.0), np.float32)


# --------------------------------------------------------------------------------------------
# Geometry: similarity fits and the triangle-mesh warp
# --------------------------------------------------------------------------------------------


def fit_similarity(src: Array, dst: Array) -> Array:
    """Least-squares similarity (Umeyama) taking 2-D ``src`` points onto ``dst``, as 2x3."""
    mu_s, mu_d = src.mean(0), dst.mean(0)
    s, d = src - mu_s, dst - mu_d
    u, sig, vt = np.linalg.svd(d.T @ s / len(src))
    flip = np.diag([1.0, np.sign(np.linalg.det(u @ vt))])
    rot = u @ flip @ vt
    scale = float(np.trace(np.diag(sig) @ flip) / s.var(0).sum())
    return np.asarray(np.hstack([scale * rot, (mu_d - scale * rot @ mu_s)[:, None]]), np.float64)


def apply_affine(m: Array, pts: Array) -> Array:
    """Apply a 2x3 affine matrix to (N, 2) points."""
    return np.asarray(pts @ m[:, :2].T + m[:, 2], np.float64)


def invert_affine(m: Array) -> Array:
    """Inverse of a 2x3 affine matrix."""
    return np.asarray(cv2.invertAffineTransform(m), np.float64)


def triangle_affines(src: Array, dst: Array, triangles: NDArray[np.int_]) -> tuple[Array, Array]:
    """Per-triangle affine maps from destination to source, and the signed destination areas.

    The warp is an inverse map (each output pixel looks up where it comes from), so the
    matrices go dst -> src.  Degenerate destination triangles get a zero matrix.
    """
    d, s = dst[triangles], src[triangles]
    area = np.asarray(0.5 * ((d[:, 1, 0] - d[:, 0, 0]) * (d[:, 2, 1] - d[:, 0, 1])
                             - (d[:, 2, 0] - d[:, 0, 0]) * (d[:, 1, 1] - d[:, 0, 1])), np.float64)
    ok = np.abs(area) > 1e-6
    design = np.concatenate([d, np.ones((*d.shape[:2], 1))], axis=2)  # (T, 3, 3)
    affines = np.zeros((len(triangles), 2, 3))
    affines[ok] = np.transpose(np.linalg.solve(design[ok], s[ok]), (0, 2, 1))
    return affines, area


def warp_mesh(image: Image32, src: Array, dst: Array, triangles: NDArray[np.int_],
              out_hw: tuple[int, int] | None = None, depth: Array | None = None) -> Image32:
    """Piecewise-affine warp of ``image`` moving mesh points ``src`` to ``dst``.

    Triangles are rasterised into an index map and each output pixel is sampled through its
    triangle's affine map.  With ``depth`` (one value per triangle, larger = farther) the
    triangles are painted far to near, so a triangle that folds behind the nose when the head
    turns is hidden by the near surface instead of smearing over it.
    """
    h, w = out_hw or image.shape[:2]
    affines, _ = triangle_affines(src, dst, triangles)
    order = np.arange(len(triangles)) if depth is None else np.argsort(-depth, kind="stable")
    index = np.full((h, w), -1, np.int32)
    corners = np.round(dst[triangles] * 16).astype(np.int32)
    for k in order:
        cv2.fillConvexPoly(index, corners[k], int(k), lineType=cv2.LINE_8, shift=4)
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    a = affines[np.maximum(index, 0)].astype(np.float32)
    map_x = a[..., 0, 0] * xs + a[..., 0, 1] * ys + a[..., 0, 2]
    map_y = a[..., 1, 0] * xs + a[..., 1, 1] * ys + a[..., 1, 2]
    out = np.asarray(cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE), np.float32)
    out[index < 0] = 0.0
    return out


def border_points(w: int, h: int, step: int = 40, margin: float = 2.0) -> Array:
    """Points along (just outside) the frame border: they pin the frame edge in place."""
    xs = np.linspace(-margin, w - 1 + margin, max(2, w // step + 1))
    ys = np.linspace(-margin, h - 1 + margin, max(2, h // step + 1))[1:-1]
    top = np.stack([xs, np.full_like(xs, -margin)], 1)
    bottom = np.stack([xs, np.full_like(xs, h - 1 + margin)], 1)
    left = np.stack([np.full_like(ys, -margin), ys], 1)
    right = np.stack([np.full_like(ys, w - 1 + margin), ys], 1)
    return np.concatenate([top, bottom, left, right])


def smoothstep(edge0: float, edge1: float, x: Array | float) -> Array:
    """Hermite ease between two edges (0 below ``edge0``, 1 above ``edge1``)."""
    t = np.clip((np.asarray(x, np.float64) - edge0) / (edge1 - edge0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def polygon_mask(points: Array, h: int, w: int) -> Image32:
    """Filled polygon as a float mask (sub-pixel vertex positions, anti-aliased edge)."""
    mask = np.zeros((h, w), np.float32)
    cv2.fillPoly(mask, [np.round(points[:, :2] * 16).astype(np.int32)], 1.0,
                 lineType=cv2.LINE_AA, shift=4)
    return mask


def scaled_about(points: Array, factor: float) -> Array:
    """Points scaled by ``factor`` about their mean."""
    centre = points[:, :2].mean(0)
    return np.asarray(centre + (points[:, :2] - centre) * factor, np.float64)


def feather(mask: Image32, sigma: float) -> Image32:
    """Gaussian-softened copy of a mask."""
    return np.asarray(cv2.GaussianBlur(mask, (0, 0), sigma), np.float32)


# --------------------------------------------------------------------------------------------
# Background: a rendered room, so any background motion in a reenacted frame is visible
# --------------------------------------------------------------------------------------------


def value_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> Image32:
    """Smooth random field in [-1, 1] with features about ``cell`` pixels across."""
    coarse = rng.uniform(-1.0, 1.0, (h // cell + 2, w // cell + 2)).astype(np.float32)
    field = cv2.resize(coarse, (w + 2 * cell, h + 2 * cell), interpolation=cv2.INTER_CUBIC)
    return np.asarray(field[cell:cell + h, cell:cell + w], np.float32)


def render_background(seed: int, wall: tuple[float, float, float], mirrored: bool) -> Image32:
    """A static room behind the subject: textured wall, window with curtain, bookshelf, picture.

    The scene has edges and texture everywhere (not a flat colour) so that a reenactment which
    drags or wobbles the background is easy to see and to measure.  Deterministic per seed.
    """
    rng = np.random.default_rng(seed)
    h, w = HEIGHT, WIDTH
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    light = 1.08 - 0.30 * (xs / w) - 0.10 * (ys / h)  # lit from the window on the left
    texture = sum(value_noise(rng, h, w, c) * a for c, a in ((48, 0.05), (12, 0.025), (3, 0.015)))
    img = np.asarray(wall, np.float32)[None, None, :] * (light + texture)[..., None]

    # Window with a pale sky, cross bars and a folded curtain over its left part.
    x0, x1, y0, y1 = 18, 168, 26, 236
    sky = np.array([0.80, 0.87, 0.95], np.float32) + 0.06 * (1 - ys[y0:y1, x0:x1, None] / h)
    img[y0:y1, x0:x1] = sky
    cv2.rectangle(img, (x0, y0), (x1, y1), (0.93, 0.92, 0.88), 7)
    cv2.line(img, ((x0 + x1) // 2, y0), ((x0 + x1) // 2, y1), (0.93, 0.92, 0.88), 5)
    cv2.line(img, (x0, (y0 + y1) // 2), (x1, (y0 + y1) // 2), (0.93, 0.92, 0.88), 5)
    cx0, cx1 = 4, 62
    folds = 0.78 + 0.22 * np.cos((xs[:, cx0:cx1] - cx0) * 0.42)
    curtain = np.array([0.55, 0.24, 0.22], np.float32)[None, None, :] * folds[..., None]
    img[:262, cx0:cx1] = curtain[:262]

    # Bookshelf on the right: wooden frame, four shelves of books of random size and colour.
    sx0, sx1 = 468, 636
    wood = np.array([0.45, 0.30, 0.18], np.float32)
    img[8:h, sx0:sx1] = wood * 0.55
    for bottom in (88, 168, 248, 328):
        x = sx0 + 10
        while x < sx1 - 18:
            bw = int(rng.integers(7, 16))
            bh = int(rng.integers(42, 68))
            colour = rng.uniform(0.15, 0.85, 3).astype(np.float32)
            colour *= 0.8 / max(float(colour.max()), 1e-3)
            colour = 0.7 * colour + 0.3 * colour.mean()  # muted, like real book spines
            if rng.random() < 0.15:
                x += int(rng.integers(6, 16))  # a gap on the shelf
                continue
            img[bottom - bh:bottom, x:x + bw] = colour
            cv2.line(img, (x + 2, bottom - bh + 8), (x + bw - 3, bottom - bh + 8),
                     tuple(float(c) for c in colour * 0.6), 1)
            x += bw + 1
        img[bottom:bottom + 8, sx0:sx1] = wood * 1.1
    img[8:h, sx0:sx0 + 9] = wood
    img[8:h, sx1 - 9:sx1] = wood

    # A framed picture (partly behind the head: its edges show if the head smears).
    px0, px1, py0, py1 = 214, 318, 36, 120
    img[py0:py1, px0:px1] = np.array([0.20, 0.17, 0.14], np.float32)
    hills = 0.5 + 0.5 * np.sin(xs[py0 + 6:py1 - 6, px0 + 6:px1 - 6] * 0.07)
    canvas = np.where((ys[py0 + 6:py1 - 6, px0 + 6:px1 - 6] - py0 - 40 > 14 * hills)[..., None],
                      np.array([0.35, 0.50, 0.30], np.float32),
                      np.array([0.72, 0.80, 0.88], np.float32))
    img[py0 + 6:py1 - 6, px0 + 6:px1 - 6] = canvas
    cv2.circle(img, (px1 - 30, py0 + 22), 8, (0.95, 0.85, 0.50), -1, cv2.LINE_AA)

    img = cv2.GaussianBlur(np.clip(img, 0, 1), (0, 0), 1.3)  # slightly out of focus
    img += rng.normal(0.0, 0.008, img.shape).astype(np.float32)  # sensor grain
    img = np.clip(img, 0.0, 1.0)
    return np.ascontiguousarray(img[:, ::-1]) if mirrored else img


# --------------------------------------------------------------------------------------------
# Face morphs: two made-up people from the two portraits
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MorphSpec:
    """How one made-up portrait mixes the two sources (weights are the astronaut's share).

    Texture weights vary over the face: the forehead and eyes lean to the astronaut (Hopper
    wears glasses and a cap brim there), the mouth leans to Hopper (the astronaut smiles with
    her teeth showing; the samples need a closed mouth at rest).  Outside the face the hair
    and the body each come from one source, blended across the jaw line.
    """

    mirror_astronaut: bool
    shape_weight: float  # astronaut's share of the landmark shape
    forehead_weight: float
    eyes_weight: float
    lower_face_weight: float
    mouth_weight: float
    hair_weight: float  # 1: the astronaut's hair, 0: Hopper's cap and grey hair
    body_weight: float  # 1: the astronaut's suit, 0: Hopper's uniform
    eye_spread: float  # extra distance between the outer eye corners, as a fraction
    face_widen: float  # extra face width, as a fraction
    face_height: float  # forehead-to-chin, pixels
    face_centre: tuple[float, float]
    background_seed: int
    wall: tuple[float, float, float]
    mirror_background: bool


TARGET_SPEC = MorphSpec(
    mirror_astronaut=False, shape_weight=0.5, forehead_weight=0.95, eyes_weight=0.92,
    lower_face_weight=0.35, mouth_weight=0.12, hair_weight=1.0, body_weight=0.0,
    eye_spread=0.0, face_widen=0.0, face_height=162.0, face_centre=(322.0, 180.0),
    background_seed=11, wall=(0.78, 0.72, 0.64), mirror_background=False,
)
"""The still portrait that gets reenacted: astronaut hair, Hopper's uniform, an even morph."""

DRIVER_SPEC = MorphSpec(
    mirror_astronaut=True, shape_weight=0.6, forehead_weight=1.0, eyes_weight=0.9,
    lower_face_weight=0.55, mouth_weight=0.15, hair_weight=0.0, body_weight=1.0,
    eye_spread=0.08, face_widen=0.06, face_height=158.0, face_centre=(318.0, 186.0),
    background_seed=23, wall=(0.66, 0.72, 0.76), mirror_background=True,
)
"""The driving face: a mirrored astronaut-leaning morph with Hopper's cap, a 6% wider face and
eyes set a further 8% apart, so its face shape is measurably not the target's."""


@dataclass
class Layer:
    """A person cut out over transparency: premultiplied RGB and alpha, float32 in [0, 1]."""

    rgb: Image32  # premultiplied by alpha
    alpha: Image32

    def over(self, background: Image32) -> Image32:
        """Composite over an opaque background."""
        return self.rgb + background * (1.0 - self.alpha[..., None])


def close_inner_lips(shape: Array) -> Array:
    """Move the inner lips of a 2-D landmark shape together (a closed mouth at rest).

    A sub-pixel gap is kept so the upper lip stays above the lower one in the mesh.
    """
    out = shape.copy()
    upper, lower = list(lmk.INNER_LIP_UPPER), list(lmk.INNER_LIP_LOWER)
    mid = 0.5 * (out[upper] + out[lower])
    out[upper] = mid - [0.0, 0.4]
    out[lower] = mid + [0.0, 0.4]
    return out


def reshape_face(shape: Array, eye_spread: float, face_widen: float) -> Array:
    """Change a face's proportions: widen it and push the eyes further apart.

    The whole face is stretched sideways about its midline, then each eye region (eye, lids,
    brow) moves outward as a block with a soft edge, so the nose bridge stays put.  Both
    raise the interocular distance relative to the face height.
    """
    centre_x = float(shape[list(lmk.FACE_OVAL), 0].mean())
    out = shape.copy()
    out[:, 0] = centre_x + (shape[:, 0] - centre_x) * (1.0 + face_widen)
    centres = [out[list(lmk.RIGHT_EYE_UPPER + lmk.RIGHT_EYE_LOWER)].mean(0),
               out[list(lmk.LEFT_EYE_UPPER + lmk.LEFT_EYE_LOWER)].mean(0)]
    span = float(np.linalg.norm(centres[1] - centres[0]))
    iod = lmk.interocular(np.column_stack([out, np.zeros(len(out))]))
    moved = out.copy()
    for centre, side in zip(centres, (-1.0, 1.0), strict=True):
        dist = np.linalg.norm(out - centre, axis=1) / span
        weight = 1.0 - smoothstep(0.42, 0.75, dist)
        moved[:, 0] += side * 0.5 * eye_spread * iod * weight
    return moved


def morph_shape(spec: MorphSpec, lm_a: Array, lm_h: Array) -> tuple[Array, Array, Array]:
    """Average landmark shape in the output frame, and each source's similarity into it.

    Hopper's landmarks are first aligned onto the astronaut's (on the rigid points), the two
    shapes are mixed, reshaped, and the mix is scaled and placed in the 16:9 frame.
    """
    rigid = list(lmk.RIGID)
    to_a = fit_similarity(lm_h[rigid, :2], lm_a[rigid, :2])
    # The lips take their shape from the source that gives their texture (mostly Hopper's
    # closed mouth): thin closed lips stretched onto the astronaut's full smiling ones read
    # as parted lips to MediaPipe.
    lips = lm_a[list(lmk.OUTER_LIP_RING), :2]
    half_width = 0.5 * float(np.linalg.norm(lips[0] - lips[10]))
    near_mouth = np.linalg.norm(lm_a[:, :2] - lips.mean(0), axis=1) / half_width
    weight = spec.mouth_weight + (spec.shape_weight - spec.mouth_weight) * smoothstep(
        1.0, 1.8, near_mouth)
    mixed = weight[:, None] * lm_a[:, :2] + (1 - weight[:, None]) * apply_affine(
        to_a, lm_h[:, :2])
    mixed = close_inner_lips(mixed)
    mixed = reshape_face(mixed, spec.eye_spread, spec.face_widen)
    scale = spec.face_height / float(np.linalg.norm(mixed[lmk.FOREHEAD] - mixed[lmk.CHIN]))
    oval = list(lmk.FACE_OVAL)
    centre = mixed[oval].mean(0)
    placed = (mixed - centre) * scale + np.asarray(spec.face_centre)
    face = slice(0, MESH_POINTS)
    sim_a = fit_similarity(lm_a[face, :2], placed[face])
    sim_h = fit_similarity(lm_h[face, :2], placed[face])
    return placed, sim_a, sim_h


def warp_source_to_shape(image: NDArray[np.uint8], mask: Image32, src_lm: Array, shape: Array,
                         sim: Array) -> tuple[Image32, Image32]:
    """Warp one source portrait (and its person matte) so its face lands on ``shape``.

    Inside the face the mesh follows the landmarks; rings around the face and the frame
    border follow the source's best similarity, so hair, neck and shoulders come along
    undistorted.  Samples beyond the source's edge repeat its border (extends the shoulders).
    """
    oval = shape[list(lmk.FACE_OVAL)]
    anchors = np.concatenate([scaled_about(oval, 1.35), scaled_about(oval, 1.8),
                              border_points(WIDTH, HEIGHT, step=64, margin=40.0)])
    dst = np.concatenate([shape[:MESH_POINTS], anchors])
    src = np.concatenate([src_lm[:MESH_POINTS, :2], apply_affine(invert_affine(sim), anchors)])
    triangles = Delaunay(dst).simplices
    rgba = np.dstack([image.astype(np.float32) / 255.0, mask])
    out = warp_mesh(rgba, src, dst, triangles, out_hw=(HEIGHT, WIDTH))
    return out[..., :3], out[..., 3]


def texture_weights(spec: MorphSpec, shape: Array) -> Image32:
    """Per-pixel astronaut share of the colour: face regions inside the oval, hair/body out."""
    h, w = HEIGHT, WIDTH
    ys = np.mgrid[0:h, 0:w][0].astype(np.float32)
    fh = spec.face_height
    brow_y = float(shape[list(lmk.RIGHT_EYEBROW + lmk.LEFT_EYEBROW), 1].mean())
    eye_y = float(shape[list(lmk.RIGHT_EYE_LOWER + lmk.LEFT_EYE_LOWER), 1].mean())
    nose_y = float(shape[lmk.NOSE_TIP, 1])
    face = (spec.forehead_weight
            + (spec.eyes_weight - spec.forehead_weight) * smoothstep(brow_y - 0.12 * fh, brow_y,
                                                                     ys)
            + (spec.lower_face_weight - spec.eyes_weight) * smoothstep(
                eye_y + 0.5 * (nose_y - eye_y), nose_y + 0.06 * fh, ys))
    mouth = shape[list(lmk.OUTER_LIP_RING)]
    mouth_blob = feather(polygon_mask(scaled_about(mouth, 1.25), h, w), 0.05 * fh)
    face = face + (spec.mouth_weight - face) * np.clip(mouth_blob * 1.3, 0.0, 1.0)

    mouth_y = float(mouth[:, 1].mean())
    outside = spec.hair_weight + (spec.body_weight - spec.hair_weight) * smoothstep(
        mouth_y - 0.12 * fh, mouth_y + 0.04 * fh, ys)
    inside = feather(polygon_mask(scaled_about(shape[list(lmk.FACE_OVAL)], 0.96), h, w),
                     0.03 * fh)
    return np.asarray(outside + (face - outside) * inside, np.float32)


def match_skin_tone(image: NDArray[np.uint8], lm: Array, reference: NDArray[np.uint8],
                    ref_lm: Array) -> NDArray[np.uint8]:
    """Shift ``image``'s colours so its face skin matches the reference face's (Lab mean/std).

    Without this the cross-dissolve shows a seam where the mix moves from one source's skin
    to the other's (Hopper's photo is warmer and redder).
    """
    def face_stats(img: NDArray[np.uint8], points: Array) -> tuple[Array, Array, Array]:
        lab = cv2.cvtColor(img, cv2.COLOR_RGB2LAB).astype(np.float64)
        inside = polygon_mask(scaled_about(points[list(lmk.FACE_OVAL)], 0.8), *img.shape[:2])
        pixels = lab[inside > 0.5]
        return lab, pixels.mean(0), pixels.std(0)

    lab, mean, std = face_stats(image, lm)
    _, ref_mean, ref_std = face_stats(reference, ref_lm)
    gain = np.array([1.0, *(ref_std[1:] / np.maximum(std[1:], 1e-6))])
    out = (lab - mean) * gain + ref_mean
    return np.asarray(cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB))


def make_portrait(spec: MorphSpec, astronaut: NDArray[np.uint8], hopper: NDArray[np.uint8]
                  ) -> tuple[Layer, Image32]:
    """Build one made-up person (as a cut-out layer) and the room behind them.

    Classic morph: both portraits are warped onto a shared landmark shape and cross-dissolved
    with spatially varying weights; each source's person matte is warped along, and the
    colour mix is normalised by the mattes so one source's background never bleeds in.
    """
    if spec.mirror_astronaut:
        astronaut = np.ascontiguousarray(astronaut[:, ::-1])
    lm_a, lm_h = detect_one_face(astronaut), detect_one_face(hopper)
    hopper = match_skin_tone(hopper, lm_h, astronaut, lm_a)
    shape, sim_a, sim_h = morph_shape(spec, lm_a, lm_h)
    rgb_a, m_a = warp_source_to_shape(astronaut, person_mask(astronaut), lm_a, shape, sim_a)
    rgb_h, m_h = warp_source_to_shape(hopper, person_mask(hopper), lm_h, shape, sim_h)
    wa = texture_weights(spec, shape)
    share_a, share_h = wa * m_a, (1.0 - wa) * m_h
    alpha = share_a + share_h
    colour = (share_a[..., None] * rgb_a + share_h[..., None] * rgb_h) / np.maximum(
        alpha, 1e-4)[..., None]
    alpha = np.clip(alpha, 0.0, 1.0).astype(np.float32)
    background = render_background(spec.background_seed, spec.wall, spec.mirror_background)
    layer = Layer(rgb=(colour * alpha[..., None]).astype(np.float32), alpha=alpha)
    return layer, background


def to_uint8(img: Image32) -> NDArray[np.uint8]:
    """Float [0, 1] image to uint8 with rounding."""
    return np.asarray(np.clip(img * 255.0 + 0.5, 0, 255), np.uint8)


# --------------------------------------------------------------------------------------------
# The motion script: per-channel keyframes, eased in and out
# --------------------------------------------------------------------------------------------

Keys = Sequence[tuple[float, float]]

CHANNELS = {
    "yaw": "head yaw in degrees; the sign follows streamgan.tracking.landmarks.head_angles "
           "(positive: the face turns toward the image's left, the subject's right)",
    "pitch": "head pitch in degrees; the sign follows head_angles (positive: the head tips "
             "down, chin toward the chest)",
    "roll": "head roll in degrees; the sign follows head_angles (positive: the head tilts "
            "clockwise in the image, toward the image's right shoulder)",
    "eye_open": "eyelids: 1 open (as in the still), 0 fully shut",
    "mouth_open": "intended inner-lip gap over mouth width, the quantity "
                  "landmarks.mouth_opening measures (0 closed; 0.6 wide open)",
    "smile": "0 neutral .. 1 full smile (mouth corners out and up; mouth_width rises)",
    "gaze_x": "iris shift inside the eye: -1 toward the image's left .. 1 toward the image's "
              "right, about a quarter of the eye's width at 1",
}


def blink_keys(times: Sequence[float]) -> list[tuple[float, float]]:
    """Eyelid keys for quick blinks shut at each time: 2 frames closing, 3 shut, 4 opening."""
    keys = [(0.0, 1.0)]
    for t in times:
        keys += [(t - 0.08, 1.0), (t, 0.0), (t + 0.08, 0.0), (t + 0.24, 1.0)]
    return keys


def bump_keys(bumps: Sequence[tuple[float, float, float, float, float]]
              ) -> list[tuple[float, float]]:
    """Keys for separate rise-hold-fall bumps given as (start, rise, hold, fall, peak)."""
    keys = [(0.0, 0.0)]
    for start, rise, hold, fall, peak in bumps:
        keys += [(start, 0.0), (start + rise, peak), (start + rise + hold, peak),
                 (start + rise + hold + fall, 0.0)]
    return keys


SCRIPT_KEYS: dict[str, Keys] = {
    # Turn left then right, and later one fast turn (0.25 s out, 0.25 s back).
    "yaw": [(0.0, 0.0), (1.0, 0.0), (1.7, 20.0), (2.1, 20.0), (2.9, -20.0), (3.2, -20.0),
            (3.8, 0.0), (6.9, 0.0), (7.15, 18.0), (7.35, 18.0), (7.6, 0.0)],
    "pitch": [(0.0, 0.0), (3.4, 0.0), (3.9, 12.0), (4.2, 12.0), (4.9, -12.0), (5.1, -12.0),
              (5.6, 0.0), (8.0, 0.0), (8.3, -6.0), (8.7, 0.0)],
    "roll": [(0.0, 0.0), (5.2, 0.0), (5.7, 8.0), (5.9, 8.0), (6.5, -8.0), (6.7, -8.0),
             (7.1, 0.0)],
    "eye_open": blink_keys([1.44, 4.44, 6.16, 8.24]),
    "mouth_open": bump_keys([(1.1, 0.2, 0.1, 0.2, 0.25), (2.2, 0.3, 0.35, 0.3, 0.6),
                             (4.0, 0.15, 0.1, 0.2, 0.35), (5.0, 0.12, 0.08, 0.15, 0.15),
                             (6.0, 0.25, 0.2, 0.25, 0.45), (7.9, 0.15, 0.15, 0.2, 0.3)]),
    "smile": [(0.0, 0.0), (4.6, 0.0), (5.1, 1.0), (5.9, 1.0), (6.4, 0.0), (7.9, 0.0),
              (8.2, 0.5), (8.6, 0.5), (8.9, 0.0)],
    "gaze_x": [(0.0, 0.0), (3.9, 0.0), (4.1, -0.8), (4.6, -0.8), (4.8, 0.0), (6.6, 0.0),
               (6.8, 0.8), (7.3, 0.8), (7.5, 0.0)],
}


SCRIPT_OUTLINE = (
    "0.0-1.0 s: neutral (frame 0 is the reference frame)",
    "1.0-3.8 s: head turn to yaw +20, across to -20, back to 0 (eased)",
    "3.4-5.6 s: nod to pitch +12, then -12, back to 0",
    "5.2-7.1 s: roll to +8, then -8, back to 0",
    "6.9-7.6 s: fast turn to yaw +18 and back (0.25 s each way)",
    "8.0-8.7 s: small nod to pitch -6",
    "blinks shut at 1.44, 4.44, 6.16, 8.24 s (3 frames fully shut each)",
    "mouth opens 6 times: peaks 0.25, 0.6 (wide, held), 0.35, 0.15, 0.45, 0.3",
    "smile 4.6-6.4 s (full), 7.9-8.9 s (half)",
    "gaze to the image's left 3.9-4.8 s (-0.8), to the right 6.6-7.5 s (+0.8)",
)
"""The motion script in words (also written into driver_script.json)."""


def eased(keys: Keys, t: float) -> float:
    """Value of keyframed channel at time ``t``: smoothstep between neighbouring keys."""
    times = [k[0] for k in keys]
    if t <= times[0]:
        return float(keys[0][1])
    for (t0, v0), (t1, v1) in zip(keys[:-1], keys[1:], strict=True):
        if t0 <= t <= t1:
            return float(v0 + (v1 - v0) * smoothstep(t0, t1, t)) if t1 > t0 else float(v1)
    return float(keys[-1][1])


def build_script() -> list[dict[str, float]]:
    """Every frame's channel values (frame 0 is the neutral reference: all zero, eyes open)."""
    frames = []
    for i in range(round(DURATION_S * FPS)):
        t = i / FPS
        frame = {"frame": i, "t": round(t, 4)}
        frame.update({name: round(eased(keys, t), 4) for name, keys in SCRIPT_KEYS.items()})
        frames.append(frame)
    return frames


# --------------------------------------------------------------------------------------------
# Animating the driver: expressions and head pose on landmarks, then a mesh warp
# --------------------------------------------------------------------------------------------


def rotation(yaw: float, pitch: float, roll: float) -> Array:
    """Head rotation in camera axes (x right, y down, z away from the camera), degrees.

    Signs are chosen so that ``landmarks.head_angles`` of the rotated landmarks moves by
    (+yaw, +pitch, +roll).
    """
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), -np.sin(p)], [0, np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return np.asarray(rz @ rx @ ry, np.float64)


def lip_profile(x: Array, centre: float, half_width: float) -> Array:
    """How far a lip point at ``x`` opens, relative to the middle (an elliptical opening)."""
    u = np.clip(1.0 - ((x - centre) / half_width) ** 2, 0.0, 1.0)
    return np.asarray(np.sqrt(u), np.float64)


class MouthBox(NamedTuple):
    """Parted inner lips (pixels) and the box round them that a mouth interior fills.

    The box's corners and size are NumPy integers, as the painting arithmetic had them.
    """

    upper: Array
    lower: Array
    gap: float
    """Mean distance between the middle points of the inner lips."""
    ring: Array
    corners: Array
    width: float
    """Distance between the inner lips' corners."""
    x0: int
    y0: int
    x1: int
    y1: int
    h: int
    w: int
    off: Array
    """``(x0, y0)``: subtract it from a point to get box coordinates."""

    def cavity(self, down: Array, rgb: tuple[float, float, float], darken: float
               ) -> tuple[Image32, Array, Image32, Image32, Image32]:
        """The mouth's dark inside and where things are in the box, for ``down`` (unit,
        upper lip to lower): the colour (``rgb``, darker by up to ``darken`` halfway down
        the gap), the lips' middle, the across-profile (1 in the middle, 0 at the
        corners) and the box's pixel grid ``xs``, ``ys``."""
        x0, y0, h, w, upper = self.x0, self.y0, self.h, self.w, self.upper
        ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
        depth = np.clip(((xs + x0 - upper[4, 0]) * down[0] + (ys + y0 - upper[4, 1]) * down[1])
                        / self.gap, 0.0, 1.0)
        colour = np.empty((h, w, 3), np.float32)
        colour[:] = np.array(rgb, np.float32)
        colour *= (1.0 - darken * np.sin(np.pi * depth))[..., None]  # darkest inside

        mid = 0.5 * (self.corners[0] + self.corners[1])
        along = np.abs((xs + x0 - mid[0]) * down[1] - (ys + y0 - mid[1]) * down[0])
        profile = np.clip(1.0 - (along / (0.5 * self.width)) ** 2, 0.0, 1.0)
        return colour, mid, profile, xs, ys

    def tongue(self, down: Array, back: float) -> Image32:
        """A soft tongue: an ellipse centred ``back`` times the gap above the lower lip's
        middle."""
        centre = self.lower[4] - down * back * self.gap - self.off
        tongue = np.zeros((self.h, self.w), np.float32)
        cv2.ellipse(tongue, (round(centre[0]), round(centre[1])),
                    (max(1, round(0.3 * self.width)), max(1, round(0.22 * self.gap))),
                    float(np.degrees(np.arctan2(-down[0], down[1]))), 0, 360, 1.0, -1,
                    cv2.LINE_AA)
        return feather(tongue, 1.0)


def mouth_box(pts: Array) -> MouthBox | None:
    """Where to paint the mouth's interior for landmarks ``pts``; None if the lips are
    (nearly) shut."""
    upper = pts[list(lmk.INNER_LIP_UPPER), :2]
    lower = pts[list(lmk.INNER_LIP_LOWER), :2]
    gap = float(np.linalg.norm(upper[2:7] - lower[2:7], axis=1).mean())
    if gap < 1.0:
        return None
    ring = pts[list(lmk.INNER_LIP_RING), :2]
    corners = pts[list(lmk.INNER_LIP_CORNERS), :2]
    width = float(np.linalg.norm(corners[1] - corners[0]))
    x0, y0 = np.floor(ring.min(0)).astype(int) - 4
    x1, y1 = np.ceil(ring.max(0)).astype(int) + 5
    return MouthBox(upper, lower, gap, ring, corners, width, x0, y0, x1, y1, y1 - y0, x1 - x0,
                    np.array([x0, y0], np.float64))


class DriverAnimator:
    """Renders the driver still in any pose/expression of the motion script.

    Mesh points: the 468 face landmarks (which carry the expressions and the head pose),
    two rings around the head (hair/cap, moving with the head) and fixed points further
    out, along the neck and on the frame border (background, neck and shoulders stay still).
    The person layer is warped and composited over the untouched background, so the room
    never moves and the area the head uncovers when it turns is real background.
    """

    def __init__(self, layer: Layer, background: Image32, lm: Array) -> None:
        self.layer, self.background, self.lm = layer, background, lm.copy()
        fh = lmk.face_height(lm)
        self.fh = fh
        cheeks = lm[[lmk.RIGHT_CHEEK, lmk.LEFT_CHEEK]]
        self.pivot = cheeks.mean(0) + [0.0, 0.05 * fh, 0.0]
        self.lm[:, 2] = self._head_depth()
        self._init_mesh()
        self._init_mouth()
        self._init_eyes()

    # -- set-up -------------------------------------------------------------------------------

    def _head_depth(self) -> Array:
        """Landmark depths, blended from MediaPipe's (centre) to a head ellipsoid (outline).

        MediaPipe's depth is good for the nose, eyes and mouth but noisy along the face
        outline, where a few pixels of disagreement fold triangles over the ears when the head
        turns.  Toward the outline the depth follows an ellipsoid that reaches the pivot's
        depth at the silhouette, so the outline stays put and the face slides across it.
        """
        lm, fh = self.lm, self.fh
        px, py, pz = self.pivot
        ax = 0.55 * self.face_w
        ay = np.where(lm[:, 1] < py, 0.5 * fh, 0.62 * fh)
        r = np.hypot((lm[:, 0] - px) / ax, (lm[:, 1] - py) / ay)
        az = pz - float(np.median(lm[r < 0.3, 2]))
        ellipsoid = pz - az * np.sqrt(np.clip(1.0 - r ** 2, 0.0, 1.0))
        w = smoothstep(0.55, 0.9, r)
        return np.asarray((1.0 - w) * lm[:, 2] + w * ellipsoid, np.float64)

    def _init_mesh(self) -> None:
        """Source mesh points, their triangles, and which of them move with the head."""
        lm, fh, pz = self.lm, self.fh, float(self.pivot[2])
        oval = lm[list(lmk.FACE_OVAL)]
        mouth_y = float(lm[list(lmk.MOUTH_CORNERS), 1].mean())
        upper = oval[:, 1] < mouth_y
        # Rings around the head (hair, cap) on the silhouette: the pivot's depth.
        near = np.column_stack([scaled_about(oval, 1.3)[upper], np.full(upper.sum(), pz)])
        far = np.column_stack([scaled_about(oval, 1.7)[upper], np.full(upper.sum(), pz)])
        moving = np.concatenate([near, far])

        chin = lm[lmk.CHIN]
        face_w = float(np.linalg.norm(cheeks_xy(lm)[1] - cheeks_xy(lm)[0]))
        neck_x = chin[0] + np.linspace(-0.9, 0.9, 7) * face_w
        neck = np.column_stack([neck_x, np.full(7, chin[1] + 0.4 * fh)])
        outer = scaled_about(oval, 2.5)
        inside = ((outer[:, 0] > 8) & (outer[:, 0] < WIDTH - 8) & (outer[:, 1] > 8)
                  & (outer[:, 1] < neck[0, 1] - 10))
        fixed_xy = np.concatenate([outer[inside], neck, border_points(WIDTH, HEIGHT)])
        fixed = np.column_stack([fixed_xy, np.full(len(fixed_xy), pz + 0.6 * fh)])

        face = lm[:MESH_POINTS].copy()
        # Keep closed lids and lips strictly ordered in the source mesh (no zero-area folds).
        for up, lo in zip(lmk.INNER_LIP_UPPER, lmk.INNER_LIP_LOWER, strict=True):
            face[lo, 1] = max(face[lo, 1], face[up, 1] + 1.0)
        self.src = np.concatenate([face, moving, fixed])
        self.n_moving = MESH_POINTS + len(moving)
        self.triangles = Delaunay(self.src[:, :2]).simplices

    def _init_mouth(self) -> None:
        """Per-landmark weights of the jaw drop (lower lip, chin) and the upper-lip lift."""
        lm, fh = self.lm, self.fh
        x, y = lm[:, 0], lm[:, 1]
        corners = lm[list(lmk.MOUTH_CORNERS)]
        centre_x = float(corners[:, 0].mean())
        half_outer = 0.5 * float(np.linalg.norm(corners[1, :2] - corners[0, :2]))
        ring_x = lm[list(lmk.INNER_LIP_UPPER), 0]
        line_y = 0.5 * (lm[list(lmk.INNER_LIP_UPPER), 1] + lm[list(lmk.INNER_LIP_LOWER), 1])
        order = np.argsort(ring_x)
        lip_line = np.interp(x, ring_x[order], line_y[order])
        corner_y = float(corners[:, 1].mean())
        lateral = 1.0 - 0.5 * smoothstep(0.35, 1.0, np.abs(x - centre_x) / (0.5 * self.face_w))
        jaw = smoothstep(corner_y, corner_y + 0.12 * fh, y) * lateral
        profile = lip_profile(x, centre_x, half_outer)
        in_mouth = np.abs(x - centre_x) < 1.1 * half_outer
        below = (y > lip_line) & (y < corner_y + 0.2 * fh)
        above = (y <= lip_line) & (y > lip_line - 0.09 * fh)
        down = np.where(below, np.maximum(profile, jaw),
                        np.where(in_mouth & (y <= lip_line), 0.0, jaw))
        up = np.where(above, 0.12 * profile, 0.0)
        down[list(lmk.INNER_LIP_LOWER)] = profile[list(lmk.INNER_LIP_LOWER)]
        down[list(lmk.INNER_LIP_UPPER)] = 0.0
        up[list(lmk.INNER_LIP_LOWER)] = 0.0
        up[list(lmk.INNER_LIP_UPPER)] = 0.12 * profile[list(lmk.INNER_LIP_UPPER)]
        for i in lmk.INNER_LIP_CORNERS + lmk.MOUTH_CORNERS:
            down[i] = up[i] = 0.0
        self.jaw_down = down[:lmk.NUM_LANDMARKS]
        self.lip_up = up[:lmk.NUM_LANDMARKS]
        self.smile_sigma = 0.32 * 2 * half_outer
        self.mouth_width_px = 2 * half_outer

    def _init_eyes(self) -> None:
        """Lid travel for a blink and the eye-opening polygons used by the gaze shift."""
        lm = self.lm
        self.lid_upper = [p[0] for p in lmk.EYELID_PAIRS]
        self.lid_lower = [p[1] for p in lmk.EYELID_PAIRS]
        travel = lm[self.lid_lower, :2] - lm[self.lid_upper, :2]  # upper lid -> lower lid
        # Skin above each upper lid follows part of the way, fading out toward the brow.
        self.crease: list[tuple[int, float, int]] = []
        for upper, lower, corners in ((lmk.RIGHT_EYE_UPPER, lmk.RIGHT_EYE_LOWER,
                                       lmk.RIGHT_EYE_CORNERS),
                                      (lmk.LEFT_EYE_UPPER, lmk.LEFT_EYE_LOWER,
                                       lmk.LEFT_EYE_CORNERS)):
            width = float(np.linalg.norm(lm[corners[0], :2] - lm[corners[1], :2]))
            ux, uy = lm[list(upper), 0], lm[list(upper), 1]
            order = np.argsort(ux)
            for i in range(MESH_POINTS):
                if i in upper or i in lower or i in corners:
                    continue
                x, y = lm[i, 0], lm[i, 1]
                if not ux.min() < x < ux.max():
                    continue
                above = float(np.interp(x, ux[order], uy[order])) - y
                if 0 < above < 0.45 * width:
                    nearest = int(np.argmin(np.abs(ux - x)))
                    self.crease.append((i, 0.4 * (1 - above / (0.45 * width)), upper[nearest]))
        self.lid_travel = dict(zip(self.lid_upper, travel, strict=True))
        self.eye_rings = [
            [lmk.RIGHT_EYE_CORNERS[0], *lmk.RIGHT_EYE_UPPER, lmk.RIGHT_EYE_CORNERS[1],
             *lmk.RIGHT_EYE_LOWER[::-1]],
            [lmk.LEFT_EYE_CORNERS[0], *lmk.LEFT_EYE_UPPER, lmk.LEFT_EYE_CORNERS[1],
             *lmk.LEFT_EYE_LOWER[::-1]],
        ]
        self.iris_centres = (lmk.RIGHT_IRIS[0], lmk.LEFT_IRIS[0])

    @property
    def face_w(self) -> float:
        """Cheek-to-cheek width of the still's face, pixels."""
        a, b = cheeks_xy(self.lm)
        return float(np.linalg.norm(b - a))

    # -- per frame ----------------------------------------------------------------------------

    def pose(self, frame: dict[str, float]) -> tuple[Array, Array]:
        """Landmarks (478, 3) and mesh destination points for one frame of the script.

        Expressions are applied to the still's landmarks in the face's own frame (the still
        faces the camera), then everything that moves with the head is rotated about a
        pivot between the cheekbones, behind the face, and projected orthographically.
        """
        lm = self.lm
        pts = lm.copy()

        smile = frame["smile"]
        if smile:
            for corner, side in ((lmk.MOUTH_CORNERS[0], -1.0), (lmk.MOUTH_CORNERS[1], 1.0)):
                d2 = ((lm[:, :2] - lm[corner, :2]) ** 2).sum(1)
                g = np.exp(-d2 / (2 * self.smile_sigma ** 2))
                pts[:, 0] += side * smile * 0.24 * self.mouth_width_px * g
                pts[:, 1] -= smile * 0.10 * self.mouth_width_px * g

        upper, lower = list(lmk.INNER_LIP_UPPER[2:7]), list(lmk.INNER_LIP_LOWER[2:7])
        width = float(np.linalg.norm(pts[lmk.INNER_LIP_CORNERS[0], :2]
                                     - pts[lmk.INNER_LIP_CORNERS[1], :2]))
        gap0 = float(np.linalg.norm(pts[upper, :2] - pts[lower, :2], axis=1).mean())
        per_pixel = float((self.jaw_down[lower] + self.lip_up[upper]).mean())
        drop = max(0.0, (frame["mouth_open"] * width - gap0) / per_pixel)
        pts[:, 1] += drop * (self.jaw_down - self.lip_up)

        shut = 0.94 * (1.0 - frame["eye_open"])  # a hair's breadth stays open: no folds
        for i in self.lid_upper:
            pts[i, :2] += shut * self.lid_travel[i]
        for i, weight, lid in self.crease:
            pts[i, :2] += shut * weight * self.lid_travel[lid]
        for ring, iris in zip(self.eye_rings, (lmk.RIGHT_IRIS, lmk.LEFT_IRIS), strict=True):
            eye_w = float(np.linalg.norm(lm[ring[0], :2] - lm[ring[8], :2]))
            pts[list(iris), 0] += frame["gaze_x"] * 0.25 * eye_w

        rot = rotation(frame["yaw"], frame["pitch"], frame["roll"])
        moving = np.concatenate([pts, self.src[MESH_POINTS:self.n_moving]])
        moving = (moving - self.pivot) @ rot.T + self.pivot
        landmarks = moving[:lmk.NUM_LANDMARKS]
        dst = np.concatenate([moving[:MESH_POINTS], moving[lmk.NUM_LANDMARKS:],
                              self.src[self.n_moving:]])
        return landmarks, dst

    def gaze_layer(self, gaze: float) -> Image32:
        """The still's RGBA with both irises slid sideways inside the eye openings.

        Each row of an eye opening is remapped 1-D (corners fixed, the iris centre moved by
        the gaze), so the iris slides over the white of the eye without leaving the eye.
        """
        rgba = np.dstack([self.layer.rgb, self.layer.alpha])
        if abs(gaze) < 1e-4:
            return rgba
        out = rgba.copy()
        for ring, iris in zip(self.eye_rings, self.iris_centres, strict=True):
            poly = self.lm[ring, :2]
            shift = gaze * 0.25 * float(np.linalg.norm(poly[0] - poly[8]))
            centre = float(self.lm[iris, 0])
            x0, y0 = np.floor(poly.min(0)).astype(int) - 2
            x1, y1 = np.ceil(poly.max(0)).astype(int) + 3
            inside = polygon_mask(poly - [x0, y0], y1 - y0, x1 - x0) > 0.5
            ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
            map_x = xs.copy()
            for r in range(y1 - y0):
                cols = np.flatnonzero(inside[r])
                if len(cols) < 3:
                    continue
                left, right = x0 + cols[0] - 0.5, x0 + cols[-1] + 0.5
                if not left + 1 < centre < right - 1:
                    continue
                s = float(np.clip(shift, -0.6 * (centre - left), 0.6 * (right - centre)))
                map_x[r, cols] = np.interp(x0 + cols, [left, centre + s, right],
                                           [left, centre, right])
            out[y0:y1, x0:x1] = cv2.remap(rgba, map_x, ys, cv2.INTER_LINEAR,
                                          borderMode=cv2.BORDER_REPLICATE)
        return out

    def paint_mouth(self, frame_rgb: Image32, pts: Array) -> Image32:
        """Fill the opened inner-lip polygon with a mouth: dark cavity, upper teeth, tongue."""
        box = mouth_box(pts)
        if box is None:
            return frame_rgb
        upper, lower, gap, ring, corners, width, x0, y0, x1, y1, h, w, off = box
        mouth = feather(polygon_mask(ring - off, h, w), 0.7)

        down = lower[4] - upper[4]
        down /= max(float(np.linalg.norm(down)), 1e-6)
        colour, mid, profile, _, _ = box.cavity(down, (0.26, 0.08, 0.07), 0.45)
        teeth_h = min(0.32 * gap, 0.11 * width)
        teeth_line = np.concatenate([[corners[0]], upper, [corners[1]]])
        lift = lip_profile(teeth_line @ np.array([down[1], -down[0]]),
                           float(mid @ np.array([down[1], -down[0]])), 0.5 * width)
        band = np.concatenate([teeth_line, (teeth_line + np.outer(lift * teeth_h, down))[::-1]])
        teeth = feather(polygon_mask(band - off, h, w), 0.6)
        teeth_colour = np.array([0.86, 0.83, 0.76], np.float32) * (0.55 + 0.45 * profile)[
            ..., None]
        colour = colour + (teeth_colour - colour) * teeth[..., None]

        tongue = box.tongue(down, 0.22) * (1.0 - teeth)
        colour = colour + (np.array([0.50, 0.22, 0.22], np.float32) - colour) * (
            0.8 * tongue[..., None])

        patch = frame_rgb[y0:y1, x0:x1]
        frame_rgb[y0:y1, x0:x1] = patch + (colour - patch) * mouth[..., None]
        return frame_rgb

    def render(self, frame: dict[str, float]) -> tuple[NDArray[np.uint8], Array]:
        """The driver image for one script frame (RGB uint8) and its intended landmarks."""
        landmarks, dst = self.pose(frame)
        depth = dst[self.triangles, 2].mean(1)
        warped = warp_mesh(self.gaze_layer(frame["gaze_x"]), self.src[:, :2], dst[:, :2],
                           self.triangles, depth=depth)
        rgb = warped[..., :3] + self.background * (1.0 - warped[..., 3:4])
        rgb = self.paint_mouth(rgb, landmarks)
        return to_uint8(rgb), landmarks


def cheeks_xy(lm: Array) -> Array:
    """The two cheek landmarks (image left first), 2-D."""
    return lm[[lmk.RIGHT_CHEEK, lmk.LEFT_CHEEK], :2]


# --------------------------------------------------------------------------------------------
# Sound and video files
# --------------------------------------------------------------------------------------------


def synth_voice(script: Sequence[dict[str, float]], rate: int = AUDIO_RATE) -> Image32:
    """A voiced buzz whose loudness follows the scripted mouth opening (mono, float32).

    A glottal-like harmonic series (f0 around 165 Hz with a slow intonation curve) shaped
    by a vowel-like formant near 700 Hz; silent when the mouth is closed, so lip sync can be
    checked by correlating the audio envelope with the mouth.
    """
    n = round(len(script) / FPS * rate)
    t = np.arange(n) / rate
    frame_t = np.array([f["t"] for f in script])
    mouth = np.array([f["mouth_open"] for f in script])
    envelope = np.clip(np.interp(t, frame_t, mouth) / 0.6, 0.0, 1.0)
    f0 = 165.0 + 18.0 * np.sin(2 * np.pi * 0.6 * t) + 25.0 * envelope
    phase = 2 * np.pi * np.cumsum(f0) / rate
    voice = np.zeros(n)
    for k in range(1, 16):
        formant = 1.0 + 2.5 * np.exp(-(((k * f0) - 700.0) / 300.0) ** 2)
        voice += formant / k ** 1.2 * np.sin(k * phase)
    voice /= np.abs(voice).max()
    return np.asarray(0.6 * envelope * voice, np.float32)


def write_driver(frames: Iterator[NDArray[np.uint8]], audio: Image32, path: Path) -> None:
    """Encode the frames (H.264 yuv420p) and the mono audio (AAC 48 kHz) into an MP4."""
    chunk = 1024
    with av.open(str(path), "w") as container:
        video = container.add_stream("libx264", rate=FPS)
        video.width, video.height, video.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        video.options = {"crf": str(VIDEO_CRF), "preset": "slow", "threads": "1"}
        sound = container.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        sound.bit_rate = 64_000
        sent = 0
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            container.mux(video.encode(frame))
            # Interleave: audio up to the end of this video frame.
            until = min(len(audio), round((i + 1) / FPS * AUDIO_RATE))
            while sent + chunk <= until or (until == len(audio) and sent < until):
                block = audio[sent:sent + chunk]
                piece = av.AudioFrame.from_ndarray(block[None, :], format="fltp", layout="mono")
                piece.sample_rate, piece.pts = AUDIO_RATE, sent
                piece.time_base = Fraction(1, AUDIO_RATE)
                container.mux(sound.encode(piece))
                sent += len(block)
        container.mux(video.encode(None))
        container.mux(sound.encode(None))


def write_script(script: list[dict[str, float]], path: Path) -> None:
    """The motion script as JSON: metadata, channel meanings, and every frame's values."""
    doc = {
        "description": "Ground truth of the motion script that animates samples/driver.mp4. "
                       "Frame 0 is the neutral reference (all zero, eyes open). Generated "
                       "by samples/make_samples.py.",
        "video": {"file": DRIVER_PATH.name, "fps": FPS, "width": WIDTH, "height": HEIGHT,
                  "frames": len(script), "duration_s": len(script) / FPS,
                  "audio": {"codec": "aac", "sample_rate": AUDIO_RATE, "channels": 1,
                            "content": "voiced buzz (~165 Hz + harmonics) whose amplitude is "
                                       "proportional to mouth_open"}},
        "channels": {"frame": "frame index (0-based)",
                     "t": "time of the frame in seconds (frame / fps)", **CHANNELS},
        "outline": list(SCRIPT_OUTLINE),
    }
    # One frame per line keeps the file short and diffable.
    head = json.dumps(doc, indent=1)[:-2]
    rows = ",\n".join("  " + json.dumps(frame) for frame in script)
    path.write_text(f'{head},\n "frames": [\n{rows}\n ]\n}}\n')


# --------------------------------------------------------------------------------------------
# Generate and check
# --------------------------------------------------------------------------------------------


def generate(preview_dir: Path | None = None) -> None:
    """Write target.png, driver.mp4 and driver_script.json into samples/."""
    astronaut, hopper = load_sources()

    layer, background = make_portrait(TARGET_SPEC, astronaut, hopper)
    Image.fromarray(to_uint8(layer.over(background))).save(TARGET_PATH, optimize=True)
    log.info("wrote %s", TARGET_PATH)

    layer, background = make_portrait(DRIVER_SPEC, astronaut, hopper)
    still = to_uint8(layer.over(background))
    animator = DriverAnimator(layer, background, detect_one_face(still))
    script = build_script()
    previews = {0: "neutral", 47: "yaw_left", 77: "yaw_right_mouth", 37: "blink",
                66: "mouth_wide", 100: "nod_down", 145: "smile_roll", 183: "fast_turn"}

    def frames() -> Iterator[NDArray[np.uint8]]:
        for frame in script:
            image, _ = animator.render(frame)
            index = int(frame["frame"])
            if preview_dir is not None and index in previews:
                name = f"{index:03d}_{previews[index]}.png"
                Image.fromarray(image).save(preview_dir / name)
            if index % 50 == 0:
                log.info("frame %d / %d", index, len(script))
            yield image

    write_driver(frames(), synth_voice(script), DRIVER_PATH)
    log.info("wrote %s", DRIVER_PATH)
    write_script(script, SCRIPT_PATH)
    log.info("wrote %s", SCRIPT_PATH)


def read_video(path: Path) -> tuple[list[NDArray[np.uint8]], Image32]:
    """All RGB frames and the (mono, float) audio of a media file."""
    with av.open(str(path)) as container:
        frames = [np.asarray(f.to_ndarray(format="rgb24"), np.uint8)
                  for f in container.decode(video=0)]
    with av.open(str(path)) as container:
        audio = np.concatenate([f.to_ndarray().reshape(-1) for f in container.decode(audio=0)])
    return frames, np.asarray(audio, np.float32)


def pearson(a: ArrayLike, b: ArrayLike) -> float:
    """Pearson correlation of two equally long series."""
    return float(np.corrcoef(np.asarray(a, np.float64), np.asarray(b, np.float64))[0, 1])


def iris_offset(lm: Array) -> float:
    """Mean horizontal iris position in the eyes: -1 at the image-left corner, 1 at the right."""
    values = []
    for corners, iris in ((lmk.RIGHT_EYE_CORNERS, lmk.RIGHT_IRIS),
                          (lmk.LEFT_EYE_CORNERS, lmk.LEFT_IRIS)):
        a, b = sorted((lm[corners[0], 0], lm[corners[1], 0]))
        values.append((lm[iris[0], 0] - 0.5 * (a + b)) / max(0.5 * (b - a), 1e-6))
    return float(np.mean(values))


def shape_ratio(lm: Array) -> float:
    """Interocular distance over face height: the face-shape cue that tells the faces apart."""
    return lmk.interocular(lm) / lmk.face_height(lm)


def check(min_corr: float = 0.9) -> int:
    """Measure the written files with MediaPipe and report how they follow the script.

    The tests rely on MediaPipe reading the driver the way the script says, so every
    channel's correlation with its measure must reach ``min_corr``.  Returns an exit code.
    """
    ok = True
    target = np.asarray(Image.open(TARGET_PATH).convert("RGB"))
    faces = detect_still(target, max_faces=4)
    print(f"target.png {target.shape[1]}x{target.shape[0]}: {len(faces)} face(s)")
    if len(faces) == 1:
        lm = faces[0]
        mouth, eyes = lmk.mouth_opening(lm), lmk.eye_opening(lm)
        print(f"  face height {lmk.face_height(lm):.0f} px, mouth_opening {mouth:.3f} "
              f"(< 0.05), eye_opening {eyes:.3f} (> 0.2)")
        ok &= mouth < 0.05 and eyes > 0.2
    else:
        ok = False

    doc = json.loads(SCRIPT_PATH.read_text())
    script = doc["frames"]
    frames, audio = read_video(DRIVER_PATH)
    measured_video = measure_video(DRIVER_PATH)
    measures = {key: measured_video.channel(channel) for key, channel in
                (("yaw", "yaw"), ("pitch", "pitch"), ("roll", "roll"), ("eye", "eye"),
                 ("mouth", "mouth"), ("width", "smile"))}
    measures["gaze"] = np.array([np.nan if lm is None else iris_offset(lm)
                                 for lm in measured_video.landmarks])
    tracked = sum(lm is not None for lm in measured_video.landmarks)
    print(f"driver.mp4: {len(frames)} frames ({len(script)} scripted), face tracked on "
          f"{tracked}")
    ok &= tracked == len(frames) == len(script)
    pairs = (("yaw", "yaw"), ("pitch", "pitch"), ("roll", "roll"), ("eye_open", "eye"),
             ("mouth_open", "mouth"), ("smile", "width"))
    names = {"eye": "eye_opening", "mouth": "mouth_opening", "width": "mouth_width"}
    for channel, key in pairs:
        truth = [f[channel] for f in script[:len(frames)]]
        measured = np.asarray(measures[key])
        good = ~np.isnan(measured)
        r = pearson(np.asarray(truth)[good], measured[good])
        ok &= r >= min_corr
        print(f"  {channel:>10} ~ {names.get(key, key):<13} r = {r:.3f}  measured range "
              f"{np.nanmin(measured):.3f} .. {np.nanmax(measured):.3f}")

    gaze = np.asarray(measures["gaze"])
    print(f"  (info) gaze_x ~ iris offset r = "
          f"{pearson([f['gaze_x'] for f in script], np.nan_to_num(gaze)):.3f}")
    if len(faces) == 1 and tracked:
        first = detect_one_face(frames[0])
        print(f"  (info) interocular / face height: target {shape_ratio(faces[0]):.3f}, "
              f"driver {shape_ratio(first):.3f}")
    per_frame = AUDIO_RATE // FPS
    rms = [float(np.sqrt(np.mean(audio[i * per_frame:(i + 1) * per_frame] ** 2)))
           for i in range(len(script))]
    print(f"  mouth_open ~ audio RMS      r = "
          f"{pearson([f['mouth_open'] for f in script], rms):.3f}")
    sizes = sum(p.stat().st_size for p in (TARGET_PATH, DRIVER_PATH))
    print(f"target.png + driver.mp4: {sizes / 1e6:.2f} MB")
    print("OK" if ok else "FAILED")
    return 0 if ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: generate the samples, or ``--check`` the written ones."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="measure the written samples with MediaPipe instead of generating")
    parser.add_argument("--preview", type=Path, metavar="DIR",
                        help="also save a few driver frames as PNG into DIR")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    if args.check:
        return check()
    if args.preview:
        args.preview.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    generate(args.preview)
    log.info("done in %.1f s", time.monotonic() - start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
