"""The ``warp`` engine: the target image, dense-warped by the driver's motion.

Per target (``prepare``): landmarks, control rings around the head, a person layer
and an inpainted background plate, all converted to yuv420p once. Per frame
(``render``): move the landmarks (relative motion transfer), build a backward map
over the head's region, remap the person layer over the plate, and fill an opened
mouth. Everything outside the head's region is the target itself, untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from streamgan.engines.base import Drive, Engine, EngineSettings, Plan, Target
from streamgan.engines.warp.eyes import EYES, LidPlate, covered_eyes
from streamgan.engines.warp.layers import split_layers
from streamgan.engines.warp.mesh import (
    DenseMap,
    Roi,
    Topology,
    backward_map,
    ellipse_points,
    even_roi,
    rect_border_points,
)
from streamgan.engines.warp.motion import MotionSettings, MotionTransfer
from streamgan.engines.warp.mouth import MouthFiller, opening_area, skin_colour
from streamgan.media.yuv import Yuv420, planes, rgb_to_yuv420
from streamgan.tracking import landmarks as lm_idx


@dataclass(frozen=True)
class WarpSettings(EngineSettings):
    """Geometry of the control rings, in face half-sizes, and the map's grid step."""

    motion: MotionSettings = field(default_factory=MotionSettings)
    head_ring: float = 1.55
    """Ring that moves rigidly with the head: encloses hair and ears."""
    outer_ring: float = 2.7
    """Ring that stays put: motion fades out between the two rings."""
    ring_points: int = 24
    neck_follow: float = 0.35
    """How much of the head's motion the ring points below the chin take."""
    grid_pixels: float = 60.0
    """Face heights are divided by this to choose the map's grid step on the face..."""
    coarse_pixels: float = 24.0
    """...and by this for the hair, neck and background around it."""
    mouth_fill: bool = True
    shut_lids: bool = True
    """Closing eyes show the plate's lids of skin, not the lash strip stretched."""


@dataclass(frozen=True)
class WarpPlan(Plan):
    """The output's landmarks, each eye's openness and the map over the engine's roi
    (as grid nodes: upsampling them is left to the drawing, which balances the two
    stages' threads)."""

    landmarks: NDArray[np.float64]
    openness: tuple[float, ...]
    mapping: DenseMap


class WarpEngine(Engine):
    """Landmark-driven dense warp; needs no learned weights and runs on the CPU."""

    name = "warp"

    def __init__(self, settings: WarpSettings | None = None) -> None:
        self.warp_settings = settings or WarpSettings()
        super().__init__(self.warp_settings)
        self._motion: MotionTransfer | None = None
        self._mouth: MouthFiller | None = None

    # -- preparation -------------------------------------------------------------
    def prepare(self, target: Target) -> None:
        s = self.warp_settings
        image, lm = target.image, target.landmarks
        width, height = target.size
        if width % 2 or height % 2:
            raise ValueError("target sides must be even (yuv420p)")
        self.size = (width, height)
        self._motion = MotionTransfer(lm, s.motion)

        oval = lm[list(lm_idx.FACE_OVAL), :2]
        center = oval.mean(0)
        half_w = float(np.linalg.norm(lm[lm_idx.LEFT_CHEEK, :2] - lm[lm_idx.RIGHT_CHEEK, :2])) / 2
        half_h = lm_idx.face_height(lm) / 2
        roll = float(np.arctan2(*(lm[263, 1::-1] - lm[33, 1::-1])))  # eye line angle
        up = np.array([np.sin(roll), -np.cos(roll)])
        head_center = center + up * 0.15 * half_h * 2
        self._head_ring = ellipse_points(
            head_center, (s.head_ring * half_w, s.head_ring * half_h), s.ring_points, roll
        )
        outer = ellipse_points(
            head_center, (s.outer_ring * half_w, s.outer_ring * half_h), s.ring_points, roll
        )
        self._roi = even_roi(outer, width, height)
        self._fixed = np.vstack([outer, rect_border_points(self._roi, 8)])
        # Ring points below the chin belong to the neck: they follow only partly.
        below_chin = (self._head_ring - lm[lm_idx.CHIN, :2]) @ -up
        ramp = np.clip((below_chin + 0.3 * half_h) / (0.6 * half_h), 0.0, 1.0)
        self._ring_weight = 1.0 - ramp * (1.0 - s.neck_follow)
        ring_z = float(lm[list(lm_idx.FACE_OVAL), 2].mean())
        self._head_ring3 = np.column_stack([self._head_ring, np.full(len(self._head_ring), ring_z)])
        self._src = np.vstack([lm[:, :2], self._head_ring, self._fixed])
        self._step = max(2, int(round(2 * half_h / s.grid_pixels)))
        self._coarse_step = max(self._step, int(round(2 * half_h / s.coarse_pixels)))
        self._face_margin = 0.1 * half_h

        head_shape = np.zeros((height, width), np.uint8)
        cv2.fillPoly(head_shape, [np.round(self._head_ring).astype(np.int32)], 255)
        layers = split_layers(image, head_shape)
        self._target_yuv = rgb_to_yuv420(image)
        background = rgb_to_yuv420(layers.background)
        alpha_half = cv2.resize(layers.alpha, (width // 2, height // 2),
                                interpolation=cv2.INTER_AREA)
        ty, tu, tv = planes(self._target_yuv)
        by, bu, bv = planes(background)
        # Luma and alpha padded to four channels: cv2.remap has a fast path for 1, 3 and
        # 4 channels, and two took 1.7x as long as four (3.4 ms against 2.0 at 720p).
        zero = np.zeros_like(ty)
        self._luma_alpha = np.ascontiguousarray(np.dstack([ty, layers.alpha, zero, zero]))
        self._chroma_alpha = np.ascontiguousarray(np.dstack([tu, tv, alpha_half]))
        self._bg_luma, self._bg_u, self._bg_v = by, bu, bv
        self._lids = LidPlate(image, lm) if s.shut_lids else None
        self._mouth = MouthFiller(skin_colour(image, lm)) if s.mouth_fill else None
        self._rest_mouth = opening_area(lm)
        self._reference: NDArray[np.float64] | None = None
        self._topology = Topology()

    def reset(self) -> None:
        self._topology = Topology()
        if self._motion is not None:
            self._motion.reset()
        if self._mouth is not None:
            self._mouth.reset()

    # -- per frame ---------------------------------------------------------------
    def render(self, drive: Drive) -> Yuv420:
        return self.draw(self.plan(drive))

    def plan(self, drive: Drive) -> Plan:
        """The motion and the dense map: everything but the pixels."""
        if self._motion is None:
            raise RuntimeError("prepare() first")
        if drive.landmarks is None or drive.reference is None:
            return Plan(drive)  # no motion known yet: the target as it is
        if drive.reference is not self._reference:
            self._motion.set_reference(drive.reference)
            self._reference = drive.reference
        motion = self._motion.transfer(drive.landmarks, covered_eyes(drive.image,
                                                                     drive.landmarks))
        ring = motion.head.apply(self._head_ring3)[:, :2]
        ring = self._head_ring + self._ring_weight[:, None] * (ring - self._head_ring)
        roi = self._roi
        moved = np.vstack([motion.landmarks[:, :2], ring])
        moved = np.clip(moved, (roi.x0 + 1, roi.y0 + 1), (roi.x1 - 2, roi.y1 - 2))
        dst = np.vstack([moved, self._fixed])
        src, eyes = self._src, motion.eyes
        hidden = tuple(int(i) for i in eyes.hidden)
        if len(eyes.resampled) or hidden:
            src = src.copy()
            src[eyes.resampled] = eyes.sources[:, :2]
            keep = np.ones(len(src), bool)
            keep[eyes.hidden] = False
            src, dst = src[keep], dst[keep]
        face = motion.landmarks[:, :2]
        detail = even_roi(np.vstack([face.min(0) - self._face_margin,
                                     face.max(0) + self._face_margin]), *self.size)
        details = [(detail, self._step)] + [(r, 1) for r in self._eye_rois(motion.landmarks)]
        mapping = backward_map(src, dst, roi, self._coarse_step, details,
                               self._topology.simplices(dst, hidden))
        return WarpPlan(drive, motion.landmarks, eyes.openness, mapping)

    def draw(self, plan: Plan) -> Yuv420:
        """The person layer remapped over the plate, and the mouth filled."""
        out = self._target_yuv.copy()
        if not isinstance(plan, WarpPlan):
            return out
        self._composite(out, plan)
        if self._mouth is not None and opening_area(plan.landmarks) > self._rest_mouth + 2.0:
            self._fill_mouth(out, plan.drive, plan.landmarks)
        return out

    def _eye_rois(self, landmarks: NDArray[np.float64]) -> list[Roi]:
        """Each eye's box, mapped at every pixel: a closing lid's gap is thinner than the
        face's grid step, and interpolating across it would leave the eye half open."""
        margin = 2 * self._step
        return [even_roi(np.vstack([pts.min(0) - margin, pts.max(0) + margin]), *self.size)
                for pts in (landmarks[list(sum(eye, ())), :2] for eye in EYES)]

    def _composite(self, out: Yuv420, plan: WarpPlan) -> None:
        """Person layer warped by the plan's maps over the background plate."""
        y, u, v = planes(out)
        luma_alpha, chroma_alpha = self._luma_alpha, self._chroma_alpha
        if self._lids is not None:
            luma_alpha, chroma_alpha = self._lids.apply(luma_alpha, chroma_alpha,
                                                        plan.openness)
        luma_map = plan.mapping.luma()
        luma, alpha, _, _ = cv2.split(cv2.remap(luma_alpha, luma_map, None,
                                                cv2.INTER_LINEAR,
                                                borderMode=cv2.BORDER_REPLICATE))
        ys, xs = self._roi.slices
        y[ys, xs] = _blend(self._bg_luma[ys, xs], luma, alpha)
        half = self._roi.half
        cu, cv, alpha_half = cv2.split(cv2.remap(chroma_alpha, DenseMap.chroma(luma_map), None,
                                                 cv2.INTER_LINEAR,
                                                 borderMode=cv2.BORDER_REPLICATE))
        hs, hx = half.slices
        u[hs, hx] = _blend(self._bg_u[hs, hx], cu, alpha_half)
        v[hs, hx] = _blend(self._bg_v[hs, hx], cv, alpha_half)

    def _fill_mouth(self, out: Yuv420, drive: Drive, out_lm: NDArray[np.float64]) -> None:
        assert self._mouth is not None and drive.landmarks is not None
        filled = self._mouth.render(drive.image, drive.landmarks, out_lm, self.size)
        if filled is None:
            return
        blend_patch(out, *filled)


def blend_patch(out: Yuv420, roi: Roi, patch: NDArray[np.uint8],
                mask: NDArray[np.float32]) -> None:
    """Blend the RGB ``patch`` into ``out`` over ``roi`` (even corners) by ``mask``
    (0..1), in yuv420p: pixels where the mask is 0 stay exactly as they were (an RGB
    round trip of the whole picture would soften its colours)."""
    py, pu, pv = planes(rgb_to_yuv420(patch))
    y, u, v = planes(out)
    ys, xs = roi.slices
    y[ys, xs] = _blend(y[ys, xs], py, mask)
    half = roi.half
    mask_half = cv2.resize(mask, (half.width, half.height), interpolation=cv2.INTER_AREA)
    hs, hx = half.slices
    u[hs, hx] = _blend(u[hs, hx], pu, mask_half)
    v[hs, hx] = _blend(v[hs, hx], pv, mask_half)


def _blend(back: NDArray[np.uint8], front: NDArray[np.uint8],
           alpha: NDArray[np.uint8] | NDArray[np.float32]) -> NDArray[np.uint8]:
    """``back`` + ``alpha`` * (``front`` - ``back``); alpha uint8 (0..255) or float (0..1).

    In 16-bit integers, divided by 255 with shifts and rounded to the nearest level:
    several times quicker than ``cv2.blendLinear`` with its two float weight planes."""
    if alpha.dtype != np.uint8:
        alpha = np.asarray(np.round(alpha * 255.0), np.uint8)
    weight = alpha.astype(np.uint16)
    mixed = back.astype(np.uint16) * (255 - weight)
    mixed += front * weight
    mixed += 128
    mixed += mixed >> 8
    mixed >>= 8
    return np.asarray(mixed, np.uint8)
