"""The warp engine's rendered pictures, measured by tracking them again."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from streamgan.engines import Drive, Target, create_engine
from streamgan.engines.warp.engine import WarpEngine, WarpSettings
from streamgan.media.yuv import rgb_to_yuv420, yuv420_to_rgb
from streamgan.tracking import landmarks as L
from streamgan.tracking.facemesh import detect_still


@pytest.fixture(scope="module")
def target(portrait: np.ndarray, portrait_landmarks: np.ndarray) -> Target:
    return Target(portrait, portrait_landmarks)  # 512x600: even sides


@pytest.fixture(scope="module")
def engine(target: Target) -> WarpEngine:
    e = create_engine("warp")
    assert isinstance(e, WarpEngine)
    e.prepare(target)
    return e


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(((a.astype(float) - b.astype(float)) ** 2).mean())
    return 10 * np.log10(255**2 / max(mse, 1e-9))


def test_neutral_driver_reproduces_the_target(engine: WarpEngine, target: Target,
                                              astronaut: np.ndarray,
                                              astronaut_landmarks: np.ndarray) -> None:
    yuv = engine.render(Drive(astronaut, astronaut_landmarks, astronaut_landmarks))
    assert yuv.shape == (600 * 3 // 2, 512)
    assert _psnr(yuv, rgb_to_yuv420(target.image)) > 40


def test_no_face_yet_gives_the_target(engine: WarpEngine, target: Target,
                                      astronaut: np.ndarray) -> None:
    yuv = engine.render(Drive(astronaut, None, None))
    np.testing.assert_array_equal(yuv, rgb_to_yuv420(target.image))


@pytest.mark.parametrize("angle", [12, -12])
def test_head_roll_follows_and_background_stays(engine: WarpEngine, target: Target,
                                                astronaut: np.ndarray,
                                                astronaut_landmarks: np.ndarray,
                                                angle: float) -> None:
    turned = cv2.warpAffine(astronaut, cv2.getRotationMatrix2D((256, 200), angle, 1.0),
                            (512, 512))
    driver_lm = detect_still(turned)[0]
    out = yuv420_to_rgb(engine.render(Drive(turned, driver_lm, astronaut_landmarks)))
    out_lm = detect_still(out)[0]
    want = L.head_angles(driver_lm)[2] - L.head_angles(astronaut_landmarks)[2]
    got = L.head_angles(out_lm)[2] - L.head_angles(target.landmarks)[2]
    assert abs(got - want) < 2.5
    # Identity: the eye spacing is the target's, not the driver's.
    assert abs(L.interocular(out_lm) / L.interocular(target.landmarks) - 1) < 0.05
    # Far from the head (the bottom corners), the picture is the target's own.
    assert _psnr(out[-100:, :80], target.image[-100:, :80]) > 40
    assert _psnr(out[-100:, -80:], target.image[-100:, -80:]) > 40


def _closed(lm: np.ndarray) -> np.ndarray:
    """The same face with its lips together: a neutral reference for an open mouth."""
    closed = lm.copy()
    closed[list(L.INNER_LIP_LOWER)] = closed[list(L.INNER_LIP_UPPER)]
    return closed


def test_open_mouth_is_filled_not_black_not_stretched_lips(
        target: Target, astronaut: np.ndarray, astronaut_landmarks: np.ndarray) -> None:
    renders = {}
    for fill in (True, False):
        e = WarpEngine(WarpSettings(mouth_fill=fill))
        e.prepare(target)
        drive = Drive(astronaut, astronaut_landmarks, _closed(astronaut_landmarks))
        renders[fill] = yuv420_to_rgb(e.render(drive))
    out_lm = detect_still(renders[True])[0]
    assert L.mouth_opening(out_lm) > L.mouth_opening(target.landmarks) + 0.08
    mask = np.zeros(target.image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(out_lm[list(L.INNER_LIP_RING), :2]).astype(np.int32)], 1)
    inside = mask.astype(bool)
    assert inside.sum() > 50
    filled, stretched = renders[True][inside], renders[False][inside]
    assert filled.mean() > 40  # not a black hole
    # The driver's teeth and cavity replace the smeared lip line a plain warp shows.
    assert np.abs(filled.astype(float) - stretched.astype(float)).mean() > 20
    # This driver shows its teeth: bright, unsaturated pixels, which red lips are not.
    def teeth(px: np.ndarray) -> float:
        hi, lo = px.max(1).astype(float), px.min(1).astype(float)
        return float(((hi > 140) & ((hi - lo) / np.maximum(hi, 1) < 0.3)).mean())

    assert teeth(filled) > 0.15
    assert teeth(filled) > 3 * teeth(stretched)


def test_planning_ahead_of_drawing_gives_the_same_pictures(target: Target,
                                                           astronaut: np.ndarray,
                                                           astronaut_landmarks: np.ndarray
                                                           ) -> None:
    """The file and live paths plan frame n + 1 (motion, map) on the tracking thread
    while frame n is drawn: drawing must depend on its own plan only."""
    drives = []
    for angle in (0, 6, 12, 4):
        turned = cv2.warpAffine(astronaut, cv2.getRotationMatrix2D((256, 200), angle, 1.0),
                                (512, 512))
        drives.append(Drive(turned, detect_still(turned)[0], astronaut_landmarks))
    in_turn, ahead = create_engine("warp"), create_engine("warp")
    in_turn.prepare(target)
    ahead.prepare(target)
    rendered = [in_turn.render(d) for d in drives]
    plans = [ahead.plan(d) for d in drives]  # every plan made before any drawing
    drawn = [ahead.draw(p) for p in plans]
    for one, other in zip(rendered, drawn, strict=True):
        np.testing.assert_array_equal(one, other)
    assert np.abs(rendered[2].astype(int) - rendered[0].astype(int)).max() > 50  # it moved
