"""Eyes that shut: lid coordinates, the iris behind the lids, and a shut render that
FaceMesh reads as shut."""

from __future__ import annotations

import numpy as np
import pytest

from streamgan.engines import Drive, Target
from streamgan.engines.warp.engine import WarpEngine, WarpSettings
from streamgan.engines.warp.eyes import LidCoordinates, place_iris
from streamgan.engines.warp.motion import MotionSettings
from streamgan.media import read_image
from streamgan.media.yuv import yuv420_to_rgb
from streamgan.tracking import landmarks as L
from streamgan.tracking.facemesh import detect_still
from tests.conftest import SAMPLES

_UPPER, _LOWER, _IRIS = (list(L.RIGHT_EYE_UPPER), list(L.RIGHT_EYE_LOWER),
                         list(L.RIGHT_IRIS))


def test_lid_coordinates_put_points_back_where_they_were(
        portrait_landmarks: np.ndarray) -> None:
    lm = portrait_landmarks
    points = lm[_IRIS + _UPPER[2:4]]
    coords = LidCoordinates.of(points, lm[_UPPER], lm[_LOWER])
    np.testing.assert_allclose(coords.between_lids(lm[_UPPER], lm[_LOWER]), points, atol=1e-9)
    np.testing.assert_allclose(coords.between[-2:], 1.0, atol=0.05)  # upper-lid points


def test_a_closing_lid_squeezes_the_iris_then_takes_it_out_of_the_mesh(
        portrait_landmarks: np.ndarray) -> None:
    lm = portrait_landmarks
    lids = (lm[_UPPER], lm[_LOWER])
    opened = place_iris(lm[_IRIS], lm[_IRIS], lids, lids, 1.0, 0.5)
    assert opened.source is not None
    np.testing.assert_allclose(opened.destination, lm[_IRIS], atol=1e-9)
    np.testing.assert_allclose(opened.source, lm[_IRIS], atol=1e-9)  # no pull, no move

    shut_upper = lm[_LOWER] + 0.02 * (lm[_UPPER] - lm[_LOWER])
    shut = place_iris(lm[_IRIS], lm[_IRIS], lids, (shut_upper, lm[_LOWER]), 0.02, 0.5)
    assert shut.source is None  # no vertex left to drag the iris over the lid
    gap = np.linalg.norm(lm[_UPPER] - lm[_LOWER], axis=1).max()
    lower_y = lm[_LOWER, 1].max()
    assert (shut.destination[:, 1] > lower_y - gap).all()  # down with the lid

    # The gaze moves the iris's pixels while the eye is open, and less as it closes.
    gazed = lm[_IRIS] + (3.0, 0.0, 0.0)
    full = place_iris(lm[_IRIS], gazed, lids, lids, 1.0, 0.5)
    half = place_iris(lm[_IRIS], gazed, lids, lids, 0.75, 0.5)
    assert full.source is not None and half.source is not None
    pull_full = (full.destination - full.source)[:, 0].mean()
    pull_half = (half.destination - half.source)[:, 0].mean()
    assert pull_full == pytest.approx(3.0, abs=0.1) and 0.0 < pull_half < pull_full


def _reading(engine: WarpEngine, image: np.ndarray, lm: np.ndarray, opening: float) -> float:
    driver = lm.copy()
    for upper, lower in ((L.RIGHT_EYE_UPPER, L.RIGHT_EYE_LOWER),
                         (L.LEFT_EYE_UPPER, L.LEFT_EYE_LOWER)):
        driver[list(upper)] = lm[list(lower)] + opening * (lm[list(upper)] - lm[list(lower)])
    out = yuv420_to_rgb(engine.render(Drive(image, driver, lm)))
    return L.eye_opening(detect_still(out)[0]) / L.eye_opening(lm)


def test_a_shut_render_reads_shut() -> None:
    """Lids driven fully shut must look shut to FaceMesh: before the iris left the mesh,
    the eyes were mapped at every pixel and the lids became skin, this read 0.95 of open
    on the sample target (0.62 without the lid plate)."""
    image = read_image(SAMPLES / "target.png")
    lm = detect_still(image)[0]
    engine = WarpEngine(WarpSettings(motion=MotionSettings(eye_shut_ratio=0.0)))
    engine.prepare(Target(image, lm))
    readings = [_reading(engine, image, lm, g) for g in (1.0, 0.5, 0.0)]
    assert readings[0] > 0.9
    assert readings[2] < 0.6, readings  # measured 0.46
    assert readings[2] < readings[1] < readings[0]


def test_open_eyes_leave_the_texture_alone_and_shut_ones_become_skin(
        portrait: np.ndarray, portrait_landmarks: np.ndarray) -> None:
    from streamgan.engines.warp.eyes import LidPlate
    from streamgan.media.yuv import planes, rgb_to_yuv420

    y, u, v = planes(rgb_to_yuv420(portrait))
    luma, chroma = np.dstack([y, np.full_like(y, 255)]), np.dstack([u, v, np.full_like(u, 255)])
    plate = LidPlate(portrait, portrait_landmarks)
    same = plate.apply(luma, chroma, (1.0, 0.6))
    assert same[0] is luma and same[1] is chroma
    shut_luma, _ = plate.apply(luma, chroma, (0.0, 1.0))
    iris = np.round(portrait_landmarks[L.RIGHT_IRIS[0], :2]).astype(int)
    other = np.round(portrait_landmarks[L.LEFT_IRIS[0], :2]).astype(int)
    assert shut_luma[iris[1], iris[0], 0] > y[iris[1], iris[0]] + 30  # dark iris -> skin
    assert shut_luma[other[1], other[0], 0] == y[other[1], other[0]]  # the open eye


def test_a_glove_over_an_eye_is_seen_and_the_eye_keeps_its_last_opening(
        portrait: np.ndarray, portrait_landmarks: np.ndarray,
        astronaut_landmarks: np.ndarray) -> None:
    import cv2

    from streamgan.engines.warp.eyes import covered_eyes
    from streamgan.engines.warp.motion import MotionTransfer

    lm = portrait_landmarks
    assert covered_eyes(portrait, lm) == (False, False)
    gloved = portrait.copy()
    centre = tuple(int(v) for v in lm[L.RIGHT_IRIS[0], :2])
    eye_w = int(np.linalg.norm(lm[L.RIGHT_EYE_CORNERS[0], :2] - lm[L.RIGHT_EYE_CORNERS[1], :2]))
    cv2.circle(gloved, centre, eye_w, (30, 60, 200), -1)  # a blue glove
    assert covered_eyes(gloved, lm) == (True, False)

    m = MotionTransfer(lm)
    m.set_reference(astronaut_landmarks)
    shut = astronaut_landmarks.copy()
    for upper, lower in ((L.RIGHT_EYE_UPPER, L.RIGHT_EYE_LOWER),
                         (L.LEFT_EYE_UPPER, L.LEFT_EYE_LOWER)):
        shut[list(upper)] = astronaut_landmarks[list(lower)]
    assert m.transfer(shut).eyes.openness == pytest.approx((0.0, 0.0), abs=1e-9)
    # Covered now, the right eye stays as it was last seen (shut); the left one opens.
    # (Approximately: the robust pose fit leaves a rounding error of 1e-14.)
    held = m.transfer(astronaut_landmarks, covered=(True, False)).eyes.openness
    assert held == pytest.approx((0.0, 1.0), abs=1e-9)
    m.reset()
    fresh = m.transfer(astronaut_landmarks, covered=(True, False)).eyes.openness
    assert fresh == pytest.approx((1.0, 1.0), abs=1e-9)


def test_a_bare_hand_over_an_eye_is_seen_where_a_shut_eye_is_not(
        portrait: np.ndarray, portrait_landmarks: np.ndarray) -> None:
    """A hand the colour of the face has no colour to give it away, but no lash, iris
    or pupil shows through it; a shut eye still shows its lashes."""
    import cv2

    from streamgan.engines.warp.eyes import covered_eyes
    from streamgan.engines.warp.mouth import skin_colour

    lm = portrait_landmarks
    skin = skin_colour(portrait, lm)
    eye_w = int(np.linalg.norm(lm[L.RIGHT_EYE_CORNERS[0], :2] - lm[L.RIGHT_EYE_CORNERS[1], :2]))
    hand = np.zeros(portrait.shape[:2], np.float32)
    cv2.ellipse(hand, tuple(int(v) for v in lm[L.RIGHT_IRIS[0], :2]),
                (int(1.3 * eye_w), eye_w), -20, 0, 360, 1.0, -1)
    shading = np.linspace(0.85, 1.0, portrait.shape[1], dtype=np.float32)[None, :]
    tone = skin * np.array([1.02, 0.95, 0.9])  # a little warmer and darker than the face
    a = cv2.GaussianBlur(hand, (0, 0), 1.5)[..., None]
    bare = np.clip(a * tone * shading[..., None] + (1 - a) * portrait, 0, 255).astype(np.uint8)
    assert covered_eyes(bare, lm) == (True, False)

    # Control: the same eye shut (its lid's skin drawn over the eye, the lash line left
    # dark) is an eye, not a hand.
    shut = portrait.copy()
    outline = lm[[L.RIGHT_EYE_CORNERS[0], *L.RIGHT_EYE_UPPER, L.RIGHT_EYE_CORNERS[1],
                  *L.RIGHT_EYE_LOWER[::-1]], :2]
    cv2.fillPoly(shut, [np.round(outline).astype(np.int32)], tuple(float(c) for c in skin))
    lash = lm[[L.RIGHT_EYE_CORNERS[0], *L.RIGHT_EYE_LOWER, L.RIGHT_EYE_CORNERS[1]], :2]
    cv2.polylines(shut, [np.round(lash).astype(np.int32)], False, (40, 30, 30), 2)
    assert covered_eyes(shut, lm) == (False, False)
