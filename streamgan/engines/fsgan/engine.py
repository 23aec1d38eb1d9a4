"""The ``fsgan`` engine: the warp's picture, refined by a learned model on a face crop.

Per frame: the ``warp`` plans and draws as always (geometry, background plate, lids),
with its mouth copy off (the model paints the mouth); then the face is cut out on a
crop aligned to the *output's* landmarks, the model reads the warped crop, where the
warp can be trusted and the landmarks' boundary maps, and its change to the crop is
added back to the frame through its own blend mask, held inside the face's outline
(:func:`inner_face`) and faded out towards the crop's border. Adding the change, not
pasting the crop, keeps the warp's skin detail at the frame's own resolution. Outside the
face everything is the warp's, so hair, background and timing behave as with ``warp``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import NDArray

from streamgan.engines.base import Drive, Engine, EngineSettings, Plan, Target
from streamgan.engines.fsgan.checkpoint import load_model
from streamgan.engines.fsgan.data import crop_inputs, inner_face, network_inputs, to_tensor
from streamgan.engines.fsgan.model import FsganModel
from streamgan.engines.warp.engine import WarpEngine, WarpPlan, WarpSettings, blend_patch
from streamgan.errors import InputError
from streamgan.media.yuv import Yuv420, yuv420_to_rgb
from streamgan.safety.consent import ConsentRecord
from streamgan.train.distributed import World, pick_device

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FsganSettings(EngineSettings):
    """``model`` is required: fsgan ships no weights (train one on consented footage
    with ``streamgan train fsgan``)."""


def border_fade(size: int, width: float = 0.08) -> NDArray[np.float32]:
    """1 inside, falling to 0 over ``width`` of the side at the crop's edges: the paste
    never shows the crop's square."""
    ramp = np.clip(np.minimum(np.arange(size), np.arange(size)[::-1]) / (width * size),
                   0.0, 1.0).astype(np.float32)
    return np.asarray(np.minimum(ramp[:, None], ramp[None, :]), np.float32)


class FsganEngine(Engine):
    """``warp`` for geometry, a personal model for appearance."""

    name = "fsgan"

    def __init__(self, settings: FsganSettings) -> None:
        super().__init__(settings)
        if settings.model is None:
            raise InputError("--engine fsgan needs --model MODEL.pt (train one on consented "
                             "footage with `streamgan train fsgan`)")
        device = pick_device(settings.device, World())
        self.model, self.facts = load_model(settings.model, device)
        if device.type == "cuda":
            self.model.ema.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        self.warp = WarpEngine(WarpSettings(device="cpu", mouth_fill=False))
        self._fade = border_fade(self.model.options.size)

    def check_target(self, consent: ConsentRecord) -> None:
        """The target's own ``reenact`` consent (already checked) is what allows it; a
        model of someone else still renders that someone's teeth and lids, so say so."""
        subjects = self.facts.subjects
        if subjects and consent.subject not in subjects:
            log.warning("this fsgan model learned from footage of %s; the target is %s: "
                        "a personal model renders the person it was trained on",
                        ", ".join(subjects), consent.subject)

    def prepare(self, target: Target) -> None:
        self.warp.prepare(target)

    def reset(self) -> None:
        self.warp.reset()

    def render(self, drive: Drive) -> Yuv420:
        return self.draw(self.plan(drive))

    def plan(self, drive: Drive) -> Plan:
        return self.warp.plan(drive)

    def draw(self, plan: Plan) -> Yuv420:
        picture = self.warp.draw(plan)
        if isinstance(plan, WarpPlan):
            refine_picture(self.model, picture, plan.landmarks, self._fade)
        return picture


def refine_picture(model: FsganModel, picture: Yuv420, landmarks: NDArray[np.float64],
                   fade: NDArray[np.float32] | None = None) -> None:
    """Refine, in place, the face of ``picture`` (a warped frame whose face has
    ``landmarks``); nothing outside the model's blend mask changes."""
    o = model.options
    rgb = yuv420_to_rgb(picture)
    crop, cut, valid, heat = crop_inputs(rgb, landmarks, o.size, o.face_fraction)
    inputs = network_inputs(cut[None], valid[None], heat[None])
    warped = to_tensor(cut[None])
    if model.device.type == "cuda":
        with torch.autocast("cuda", torch.float16):
            out = model.refine(inputs.to(memory_format=torch.channels_last), warped)
    else:
        out = model.refine(inputs, warped)
    # Only the model's change is moved back to the frame, not its crop: the crop is
    # smaller than the face in the frame, and pasting it would blur the warp's skin.
    change = ((out.fused[0] - warped[0].to(out.fused.device)).float() * 127.5
              ).permute(1, 2, 0).cpu().numpy()
    bound = inner_face(crop.points(landmarks[:, :2]), o.size)
    mask = out.seg[0, 0].float().cpu().numpy() * bound * (border_fade(o.size) if fade is None
                                                           else fade)
    placed = crop.place(np.ascontiguousarray(change, np.float32), mask, rgb.shape[1],
                        rgb.shape[0])
    if placed is not None:
        roi, moved, weight = placed
        face = np.clip(np.round(rgb[roi.slices] + moved), 0, 255).astype(np.uint8)
        blend_patch(picture, roi, face, weight)
