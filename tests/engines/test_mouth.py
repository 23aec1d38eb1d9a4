"""The mouth interior copies a mouth, never an object held in front of one."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from streamgan.engines.warp.mouth import (
    FOREIGN_MAX,
    SKIN_MAX,
    MouthFiller,
    foreign_fraction,
    skin_fraction,
)
from streamgan.tracking.landmarks import INNER_LIP_RING, NUM_LANDMARKS

BLUE = (40, 95, 200)


def _mouth_patch(size: int = 40) -> np.ndarray:
    """A mouth's interior: dark cavity, a row of white teeth, a red tongue."""
    patch = np.full((size, size, 3), (35, 18, 20), np.uint8)
    patch[: size // 3] = (235, 232, 225)
    patch[2 * size // 3:] = (190, 70, 80)
    return patch


def test_a_mouth_is_a_mouth_and_a_glove_is_not() -> None:
    mask = np.ones((40, 40), np.float32)
    assert foreign_fraction(_mouth_patch(), mask) == 0.0
    assert foreign_fraction(np.full((40, 40, 3), BLUE, np.uint8), mask) == 1.0
    green_mic = np.full((40, 40, 3), (60, 160, 70), np.uint8)
    assert foreign_fraction(green_mic, mask) > FOREIGN_MAX
    skin = np.full((40, 40, 3), (205, 150, 125), np.uint8)
    assert foreign_fraction(skin, mask) == 0.0  # a bare hand is not caught by colour...


def test_a_bare_hand_is_skin_where_a_mouth_is_not() -> None:
    """...but by looking like the face's lit skin, which no part of a mouth does."""
    mask = np.ones((40, 40), np.float32)
    face = np.array([200.0, 150.0, 130.0])
    hand = np.full((40, 40, 3), (205, 146, 120), np.uint8)  # the face's tone, warmer
    shaded = (hand * np.linspace(0.85, 1.1, 40)[:, None, None]).clip(0, 255).astype(np.uint8)
    assert skin_fraction(shaded, mask, face) > SKIN_MAX
    assert skin_fraction(_mouth_patch(), mask, face) == 0.0
    lips = np.full((40, 40, 3), (170, 90, 95), np.uint8)
    assert skin_fraction(lips, mask, face) == 0.0
    shadow = (hand * 0.6).astype(np.uint8)  # skin-toned but dark: a cavity's shadow
    assert skin_fraction(shadow, mask, face) == 0.0


def _frame_with_mouth(fill: tuple[int, int, int] | None) -> tuple[np.ndarray, np.ndarray]:
    """A 200x200 driver frame whose inner-lip ring is a 60x30 ellipse at the centre,
    showing a mouth, or ``fill`` (an occluder) inside it."""
    rgb = np.full((200, 200, 3), (200, 150, 130), np.uint8)
    rgb[85:115, 70:130] = cv2.resize(_mouth_patch(), (60, 30))
    if fill is not None:
        cv2.circle(rgb, (100, 100), 45, fill, -1)
    lm = np.zeros((NUM_LANDMARKS, 3))
    lm[:, :2] = (100, 170)  # on the skin below the mouth: where cheeks and chin are sampled
    angles = np.linspace(0, 2 * np.pi, len(INNER_LIP_RING), endpoint=False)
    lm[list(INNER_LIP_RING), 0] = 100 + 28 * np.cos(angles)
    lm[list(INNER_LIP_RING), 1] = 100 + 13 * np.sin(angles)
    return rgb, lm


def _blue_share(patch: np.ndarray, mask: np.ndarray) -> float:
    r, g, b = (patch[..., k].astype(int) for k in range(3))
    return float(((b > r + 80) & (b > g + 50))[mask > 0.5].mean())


def test_an_occluded_mouth_shows_the_last_mouth_instead() -> None:
    filler = MouthFiller(target_skin=np.array([200.0, 150.0, 130.0]), feather=0)
    mouth, mouth_lm = _frame_with_mouth(None)
    blue, blue_lm = _frame_with_mouth(BLUE)
    first = filler.render(mouth, mouth_lm, mouth_lm, (200, 200))
    held = filler.render(blue, blue_lm, blue_lm, (200, 200))
    assert first is not None and held is not None
    assert _blue_share(held[1], held[2]) == 0.0
    assert np.abs(held[1].astype(int) - first[1].astype(int)).mean() < 2
    assert filler.occluded_frames == 1


@pytest.mark.parametrize("reset", [False, True])
def test_an_occluder_from_the_start_shows_nothing(reset: bool) -> None:
    filler = MouthFiller(target_skin=np.array([200.0, 150.0, 130.0]), feather=0)
    if reset:
        mouth, mouth_lm = _frame_with_mouth(None)
        assert filler.render(mouth, mouth_lm, mouth_lm, (200, 200)) is not None
        filler.reset()  # a new stream: the last one's mouth must not appear
    blue, blue_lm = _frame_with_mouth(BLUE)
    assert filler.render(blue, blue_lm, blue_lm, (200, 200)) is None


def test_a_bare_hand_over_the_mouth_shows_the_last_mouth_instead() -> None:
    filler = MouthFiller(target_skin=np.array([200.0, 150.0, 130.0]), feather=0)
    mouth, mouth_lm = _frame_with_mouth(None)
    hand, hand_lm = _frame_with_mouth((205, 146, 120))
    first = filler.render(mouth, mouth_lm, mouth_lm, (200, 200))
    held = filler.render(hand, hand_lm, hand_lm, (200, 200))
    assert first is not None and held is not None
    assert np.abs(held[1].astype(int) - first[1].astype(int)).mean() < 2
    assert filler.occluded_frames == 1
