"""Eyes that shut: an iris that hides behind closing lids, and lids of skin.

The iris points steer the gaze: as mesh vertices they carry the iris across the eye.
But a vertex left between lids that have almost met pulls its own pixels (the dark
iris) into every triangle around it, so a "shut" eye shows a smear that FaceMesh reads
as open. So the iris is placed by *lid coordinates* (where along the eye, how far from
the lower lid to the upper), its gaze pull fades out as the lids close, and below
``hidden_below`` openness the iris points leave the mesh: by then they pull nothing,
so leaving causes no jump.

A warp closes an eye by stretching the thin strip above the upper lid (lashes and
shadow) over it: a dark smear, not a lid. ``LidPlate`` holds the target with each
eye's opening and lash strip inpainted from the skin around it; as an eye closes the
warp samples that plate instead, so the shut eye is skin with the lower lash line.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from streamgan.engines.warp.mouth import foreign_fraction, skin_colour
from streamgan.media.yuv import planes, rgb_to_yuv420
from streamgan.tracking import landmarks as lm_idx
from streamgan.tracking.landmarks import Landmarks

Vector = NDArray[np.float64]


@dataclass(frozen=True)
class LidCoordinates:
    """Points relative to an eye's lids: ``along`` the eye (0 at the first lid pair,
    1 at the last), ``between`` them (0 on the lower lid, 1 on the upper) and the
    ``rest`` that neither explains (kept as an offset)."""

    along: Vector
    between: Vector
    rest: Landmarks

    @classmethod
    def of(cls, points: Landmarks, upper: Landmarks, lower: Landmarks) -> LidCoordinates:
        axis, columns = _columns(upper, lower)
        along = (points[:, :2] - (upper[0, :2] + lower[0, :2]) / 2) @ axis
        up, low = _lids_at(along, columns, upper, lower)
        span = (up - low)[:, :2]
        between = np.einsum("ij,ij->i", (points - low)[:, :2], span)
        between /= np.maximum(np.einsum("ij,ij->i", span, span), 1e-9)
        rest = points - low - between[:, None] * (up - low)
        return cls(along / max(float(columns[-1]), 1e-9), between, rest)

    def between_lids(self, upper: Landmarks, lower: Landmarks) -> Landmarks:
        """The points put back between the lids ``upper`` and ``lower``."""
        _, columns = _columns(upper, lower)
        up, low = _lids_at(self.along * columns[-1], columns, upper, lower)
        return low + self.between[:, None] * (up - low) + self.rest

    def clipped(self, like: LidCoordinates) -> LidCoordinates:
        """The same points kept inside the eye's opening, or as far outside it as the
        points ``like`` are (an iris edge the photo shows under a lid stays there)."""
        low, high = np.minimum(like.between, 0.0), np.maximum(like.between, 1.0)
        return LidCoordinates(self.along, np.clip(self.between, low, high), self.rest)


@dataclass(frozen=True)
class IrisPlacement:
    """Where an iris's points go, where they sample the target, or None when the eye
    is too nearly shut for them to be mesh vertices at all."""

    destination: Landmarks
    source: Landmarks | None


def place_iris(target_iris: Landmarks, driven_iris: Landmarks, target_lids: tuple[Landmarks,
               Landmarks], moved_lids: tuple[Landmarks, Landmarks], openness: float,
               hidden_below: float) -> IrisPlacement:
    """The iris between the moved lids, pulling its pixels along by the gaze only as far
    as the eye is open.

    ``driven_iris`` is the iris where the driver's gaze puts it in the target's face,
    ``openness`` the lids' opening as a fraction of the target's (0 shut, 1 as in the
    photo). A vertex whose source is what the lid motion alone would sample there pulls
    nothing: that is the source at openness ``hidden_below``, rising to the target's
    own iris (the full gaze pull) when the eye is open.
    """
    own = LidCoordinates.of(target_iris, *target_lids)
    coordinates = LidCoordinates.of(driven_iris, *target_lids).clipped(own)
    destination = coordinates.between_lids(*moved_lids)
    if openness < hidden_below:
        return IrisPlacement(destination, None)
    still = coordinates.between_lids(*target_lids)  # what the lid motion alone samples
    pull = float(np.clip((openness - hidden_below) / max(1.0 - hidden_below, 1e-9), 0.0, 1.0))
    pull = pull * pull * (3.0 - 2.0 * pull)  # smoothstep: no kink where it starts
    return IrisPlacement(destination, still + pull * (target_iris - still))


def _columns(upper: Landmarks, lower: Landmarks) -> tuple[Vector, Vector]:
    """The eye's axis (unit, in the picture) and each lid pair's position along it."""
    middle = (upper[:, :2] + lower[:, :2]) / 2
    axis = middle[-1] - middle[0]
    axis /= max(float(np.linalg.norm(axis)), 1e-9)
    return axis, np.maximum.accumulate((middle - middle[0]) @ axis)


def _lids_at(along: Vector, columns: Vector, upper: Landmarks,
             lower: Landmarks) -> tuple[Landmarks, Landmarks]:
    """The upper and lower lid interpolated at positions ``along`` the eye."""
    def at(lid: Landmarks) -> Landmarks:
        return np.stack([np.interp(along, columns, lid[:, k]) for k in range(lid.shape[1])],
                        axis=1)
    return at(upper), at(lower)


EYES = (
    (lm_idx.RIGHT_EYE_UPPER, lm_idx.RIGHT_EYE_LOWER, lm_idx.RIGHT_EYE_CORNERS),
    (lm_idx.LEFT_EYE_UPPER, lm_idx.LEFT_EYE_LOWER, lm_idx.LEFT_EYE_CORNERS),
)


@dataclass(frozen=True)
class _Lid:
    rows: slice
    cols: slice
    luma: NDArray[np.uint8]
    u: NDArray[np.uint8]
    v: NDArray[np.uint8]
    alpha: NDArray[np.float32]
    alpha_half: NDArray[np.float32]


class LidPlate:
    """The target's eyes as shut lids of skin, blended into the warp's source texture
    as each eye closes."""

    def __init__(self, image: NDArray[np.uint8], lm: Landmarks, lash_band: float = 0.35,
                 shut_from: float = 0.5) -> None:
        """``lash_band``: how far above the upper lid (in open-eye heights) the strip
        to replace reaches; ``shut_from``: the openness at which the plate starts."""
        self.shut_from = shut_from
        height, width = image.shape[:2]
        holes = np.zeros((height, width), np.uint8)
        outlines, lashes = [], []
        for upper, lower, corners in EYES:
            up, low = lm[list(upper), :2], lm[list(lower), :2]
            raised = up + lash_band * (up - low)
            a, b = lm[corners[0], :2], lm[corners[1], :2]
            if np.linalg.norm(a - up[0]) > np.linalg.norm(b - up[0]):
                a, b = b, a
            a, b = a + 0.08 * (a - b), b + 0.08 * (b - a)  # the corners' dark wedges too
            outline = np.vstack([a, raised, b, low[::-1]])
            outlines.append(outline)
            lashes.append(np.vstack([a, low, b]))
            cv2.fillPoly(holes, [np.round(outline).astype(np.int32)], 255)
        holes = cv2.dilate(holes, np.ones((3, 3), np.uint8))
        filled = cv2.inpaint(image, holes, 3, cv2.INPAINT_TELEA)
        # The seam of a shut eye is a line of lashes: the strip's own darkest tone.
        dark = np.percentile(image[holes > 0].reshape(-1, 3), 5, axis=0)
        seam = np.zeros((height, width), np.uint8)
        for line, outline in zip(lashes, outlines, strict=True):
            thick = max(1, int(round(0.06 * float(np.ptp(outline[:, 1])))))
            cv2.polylines(seam, [np.round(line).astype(np.int32)], False, 255, thick,
                          cv2.LINE_AA)
        seam_alpha = 0.7 * cv2.GaussianBlur(seam, (0, 0), 0.6)[..., None] / 255.0
        filled = np.round(filled + seam_alpha * (dark - filled)).astype(np.uint8)
        plate = planes(rgb_to_yuv420(filled))
        self._lids = []
        for outline in outlines:
            gap = max(float(np.ptp(outline[:, 1])), 2.0)
            pad = int(np.ceil(gap))
            x0, y0 = np.floor(outline.min(0)).astype(int) - pad
            x1, y1 = np.ceil(outline.max(0)).astype(int) + pad
            x0, y0 = max(0, x0) // 2 * 2, max(0, y0) // 2 * 2
            x1, y1 = min(width, (x1 + 2) // 2 * 2), min(height, (y1 + 2) // 2 * 2)
            mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
            cv2.fillPoly(mask, [np.round(outline - (x0, y0)).astype(np.int32)], 255)
            mask = cv2.dilate(mask, np.ones((3, 3), np.uint8))
            soft = cv2.GaussianBlur(mask.astype(np.float32) / 255.0, (0, 0), 0.15 * gap + 0.5)
            soft = np.clip(soft * 1.5, 0.0, 1.0)  # fully the plate inside, soft at the edge
            half = cv2.resize(soft, ((x1 - x0) // 2, (y1 - y0) // 2),
                              interpolation=cv2.INTER_AREA)
            rows, cols = slice(y0, y1), slice(x0, x1)
            hr, hc = slice(y0 // 2, y1 // 2), slice(x0 // 2, x1 // 2)
            self._lids.append(_Lid(rows, cols, plate[0][rows, cols].copy(),
                                   plate[1][hr, hc].copy(), plate[2][hr, hc].copy(),
                                   soft, half))

    def weight(self, openness: float) -> float:
        """How much of the plate an eye this open shows: 0 at ``shut_from``, 1 shut."""
        w = float(np.clip((self.shut_from - openness) / self.shut_from, 0.0, 1.0))
        return w * w * (3.0 - 2.0 * w)

    def apply(self, luma_alpha: NDArray[np.uint8], chroma_alpha: NDArray[np.uint8],
              openness: tuple[float, ...]) -> tuple[NDArray[np.uint8], NDArray[np.uint8]]:
        """The warp's source textures (luma+alpha, u+v+alpha planes) with each eye as
        shut as ``openness`` says; the inputs themselves when every eye is open."""
        weights = [self.weight(o) for o in openness]
        if max(weights) <= 0.0:
            return luma_alpha, chroma_alpha
        luma_alpha, chroma_alpha = luma_alpha.copy(), chroma_alpha.copy()
        for lid, w in zip(self._lids, weights, strict=True):
            if w <= 0.0:
                continue
            hr = slice(lid.rows.start // 2, lid.rows.stop // 2)
            hc = slice(lid.cols.start // 2, lid.cols.stop // 2)
            for plane, patch, alpha, rows, cols in (
                    (luma_alpha[..., 0], lid.luma, lid.alpha, lid.rows, lid.cols),
                    (chroma_alpha[..., 0], lid.u, lid.alpha_half, hr, hc),
                    (chroma_alpha[..., 1], lid.v, lid.alpha_half, hr, hc)):
                back = plane[rows, cols].astype(np.float32)
                plane[rows, cols] = np.round(back + w * alpha * (patch - back)).astype(np.uint8)
        return luma_alpha, chroma_alpha


COVERED_MIN = 0.5
"""Share of the skin around an eye that must look like no skin for the eye to count as
covered (a hand, a glove, a cup in front of it). On the hard occluded clip a glove over
the eye scores 0.6-1.0, fingers reaching up beside it 0.3-0.9, bare skin 0."""


DARK_MIN = 0.06
"""Share of an eye's pixels (its outline and lash line) that must be dark (under half
the face's skin luma) for the eye to count as seen: an open or shut eye shows lashes,
iris and pupil, a bare hand over it shows none. On the hard clips an eye scores
0.18-0.36, shut ones 0.18-0.33; a bare hand over it 0.00-0.03."""

_LUMA = np.array([0.299, 0.587, 0.114])


def covered_eyes(rgb: NDArray[np.uint8], lm: Landmarks) -> tuple[bool, ...]:
    """Which of the driver's eyes (right, left) something is in front of.

    Two tests: the ring of lid and brow skin around each eye shows a colour no skin has
    (the mouth's occluder test: a glove, a cup; the eye itself is left out, since a blue
    or green iris is saturated), or the eye shows nothing dark, no lash, iris or pupil
    (a bare hand, skin-coloured, in front of it)."""
    height, width = rgb.shape[:2]
    light = float(skin_colour(rgb, lm) @ _LUMA)
    found = []
    for upper, lower, corners in EYES:
        outline = lm[[corners[0], *upper, corners[1], *lower[::-1]], :2]
        eye_w = float(np.linalg.norm(lm[corners[0], :2] - lm[corners[1], :2]))
        pad = max(2, int(round(0.35 * eye_w)))
        x0, y0 = np.maximum(np.floor(outline.min(0)).astype(int) - pad, 0)
        x1, y1 = np.minimum(np.ceil(outline.max(0)).astype(int) + pad + 1, (width, height))
        if x1 - x0 < 4 or y1 - y0 < 4:
            found.append(False)
            continue
        eye = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.fillPoly(eye, [np.round(outline - (x0, y0)).astype(np.int32)], 255)
        grown = cv2.dilate(eye, cv2.getStructuringElement(cv2.MORPH_ELLIPSE,
                                                          (2 * pad + 1, 2 * pad + 1)))
        near = cv2.dilate(eye, np.ones((5, 5), np.uint8))
        ring = ((grown > 0) & (near == 0)).astype(np.float32)
        patch = rgb[y0:y1, x0:x1]
        found.append(foreign_fraction(patch, ring) > COVERED_MIN
                     or dark_fraction(patch, near > 0, light) < DARK_MIN)
    return tuple(found)


def dark_fraction(patch: NDArray[np.uint8], inside: NDArray[np.bool_], light: float) -> float:
    """The share of ``patch``'s pixels ``inside`` darker than half the skin luma
    ``light``; 1 (nothing to judge) for fewer than 16 pixels."""
    if int(inside.sum()) < 16:
        return 1.0
    luma = cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY)[inside]
    return float(np.mean(luma < 0.5 * light))
