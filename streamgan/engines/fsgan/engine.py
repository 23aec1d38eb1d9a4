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
from collections.abc import Sequence
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

    compile: bool | None = None
    """Compile the network once (``torch.compile``); None: on CUDA only (on the CPU the
    compile takes longer than a clip saves)."""


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
        self.cuda = device.type == "cuda"
        if self.cuda:
            self.model.ema.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        if settings.compile if settings.compile is not None else self.cuda:
            self.model.compile()
        self.warp = WarpEngine(WarpSettings(device="cpu", mouth_fill=False))
        self._fade = border_fade(self.model.options.size)
        self._batch = settings.batch or (8 if self.cuda else 1)

    @property
    def batch_size(self) -> int:
        """8 crops per forward pass on CUDA (the GPU is idle between small ones), 1 on
        the CPU (two cores gain nothing from a batch), or what the settings say."""
        return self._batch

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
        return self.draw_batch([plan])[0]

    def draw_batch(self, plans: Sequence[Plan]) -> list[Yuv420]:
        """The warp draws each frame, then the model refines all their faces in one
        forward pass (padded to :attr:`batch_size` when compiled, so one shape is
        compiled once)."""
        pictures = [self.warp.draw(plan) for plan in plans]
        faces = [(picture, plan.landmarks) for picture, plan in zip(pictures, plans, strict=True)
                 if isinstance(plan, WarpPlan)]
        if faces:
            pad = self._batch if len(faces) > 1 and self.model.compiled else None
            refine_pictures(self.model, faces, self._fade, pad_to=pad)
        return pictures


def refine_pictures(model: FsganModel, faces: Sequence[tuple[Yuv420, NDArray[np.float64]]],
                    fade: NDArray[np.float32] | None = None, pad_to: int | None = None) -> None:
    """Refine, in place, the face of each picture (a warped frame whose face has the
    landmarks beside it), in one forward pass; nothing outside the model's blend mask
    changes. ``pad_to``: run the network on that many crops (zeros after the real ones)."""
    o = model.options
    fade = border_fade(o.size) if fade is None else fade
    frames = [yuv420_to_rgb(picture) for picture, _ in faces]
    cut = [crop_inputs(rgb, lm, o.size, o.face_fraction)
           for rgb, (_, lm) in zip(frames, faces, strict=True)]
    inputs = network_inputs(np.stack([c[1] for c in cut]), np.stack([c[2] for c in cut]),
                            np.stack([c[3] for c in cut]))
    warped = to_tensor(np.stack([c[1] for c in cut]))
    if pad_to is not None and pad_to > len(faces):
        inputs = torch.cat([inputs, inputs.new_zeros((pad_to - len(faces), *inputs.shape[1:]))])
        warped = torch.cat([warped, warped.new_zeros((pad_to - len(faces), *warped.shape[1:]))])
    if model.device.type == "cuda":
        with torch.autocast("cuda", torch.float16):
            out = model.refine(inputs.to(model.device, non_blocking=True,
                                         memory_format=torch.channels_last), warped)
    else:
        out = model.refine(inputs, warped)
    # Only the model's change is moved back to the frame, not its crop: the crop is
    # smaller than the face in the frame, and pasting it would blur the warp's skin.
    changes = ((out.fused[:len(faces)] - warped[:len(faces)].to(out.fused.device)).float()
               * 127.5).permute(0, 2, 3, 1).cpu().numpy()
    seg = out.seg[:len(faces), 0].float().cpu().numpy()
    for (picture, lm), rgb, (crop, *_), change, soft in zip(faces, frames, cut, changes, seg,
                                                         strict=True):
        mask = soft * inner_face(crop.points(lm[:, :2]), o.size) * fade
        placed = crop.place(np.ascontiguousarray(change, np.float32), mask, rgb.shape[1],
                            rgb.shape[0])
        if placed is not None:
            roi, moved, weight = placed
            face = np.clip(np.round(rgb[roi.slices] + moved), 0, 255).astype(np.uint8)
            blend_patch(picture, roi, face, weight)

