"""The fsgan networks and the pictures they read: shapes, the warp kept at the start,
boundary maps that mirror with the face, crops that paste back where they came from."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from streamgan.engines.fsgan.crop import FaceCrop
from streamgan.engines.fsgan.heatmaps import GROUPS, boundary_maps
from streamgan.engines.fsgan.networks import MultiscaleDiscriminator, RefineGenerator, heads
from streamgan.engines.fsgan.options import PRESETS, FsganOptions
from streamgan.tracking.landmarks import Landmarks


def test_generator_starts_by_keeping_the_warp() -> None:
    o = PRESETS["tiny"]
    g = RefineGenerator(o)
    x = torch.rand(2, o.in_channels, o.size, o.size) * 2 - 1
    warped = x[:, :3]
    with torch.no_grad():
        out = heads(g(x), warped)
    assert out.rgb.shape == warped.shape and out.seg.shape == (2, 1, o.size, o.size)
    # An untrained model gives the warp back, give or take a little.
    assert float((out.fused - warped).abs().max()) < 0.2
    assert float((out.fused - warped).abs().mean()) < 0.02


def test_discriminator_scales_and_layers() -> None:
    o = FsganOptions(size=64, levels=3, d_width=8, d_scales=2)
    d = MultiscaleDiscriminator(o, 3 + len(GROUPS))
    out = d(torch.rand(1, 3 + len(GROUPS), 64, 64))
    assert len(out) == 2 and all(len(layers) == 4 for layers in out)
    assert out[1][-1].shape[-1] < out[0][-1].shape[-1]


def test_options_refuse_crops_the_network_cannot_halve() -> None:
    with pytest.raises(ValueError, match="multiple of 16"):
        FsganOptions(size=100, levels=4)
    assert FsganOptions.from_dict(PRESETS["gpu"].to_dict()) == PRESETS["gpu"]


def test_boundary_maps_mirror_with_the_face(portrait_landmarks: Landmarks) -> None:
    size = 96
    crop = FaceCrop.of(portrait_landmarks, size)
    points = crop.points(portrait_landmarks[:, :2])
    maps = boundary_maps(points, size)
    assert maps.shape == (len(GROUPS), size, size)
    assert all(0.99 <= m.max() <= 1.0 for m in maps)
    mirrored = points.copy()
    mirrored[:, 0] = size - 1 - mirrored[:, 0]
    flipped = boundary_maps(mirrored, size)[..., ::-1]
    # Left and right parts share channels, so a mirrored face draws the mirrored maps
    # (up to the face's own asymmetry, a pixel or so).
    overlap = (np.minimum(maps, flipped).sum((1, 2)) / maps.sum((1, 2)))
    assert overlap.min() > 0.5


def test_crop_is_upright_and_pastes_back_in_place(portrait: np.ndarray,
                                                  portrait_landmarks: Landmarks) -> None:
    size = 512  # about the face's own scale: cut and paste lose little
    crop = FaceCrop.of(portrait_landmarks, size)
    cut = crop.cut(portrait)
    eyes = crop.points(portrait_landmarks[[33, 263], :2])
    assert abs(eyes[0, 1] - eyes[1, 1]) < 0.5  # the eye line is level
    assert eyes[0, 0] < size / 2 < eyes[1, 0]
    mask = np.ones((size, size), np.float32)

    def paste(pixels: np.ndarray) -> np.ndarray:
        placed = crop.place(pixels, mask, portrait.shape[1], portrait.shape[0])
        assert placed is not None
        roi, moved, alpha = placed
        out = portrait.astype(np.float32)
        out[roi.slices] += alpha[..., None] * (moved - out[roi.slices])
        return np.asarray(np.round(out), np.uint8)

    same = paste(cut)
    # Cut then pasted: the face comes back where it was (interpolated twice).
    face = (slice(200, 400), slice(150, 350))
    assert np.abs(same[face].astype(int) - portrait[face]).mean() < 6
    grey = paste(np.full_like(cut, 128))
    changed = np.abs(grey.astype(int) - portrait).sum(-1) > 0
    assert changed[face].mean() > 0.9 and changed.mean() < 0.9
