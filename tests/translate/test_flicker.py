import math

import numpy as np
import pytest

from streamgan.translate import flicker as F
from tests.translate import scenes


@pytest.fixture(scope="module")
def camera() -> scenes.Clip:
    return scenes.camera_motion(20, 112, 192)


@pytest.fixture(scope="module")
def camera_flows(camera: scenes.Clip) -> list[tuple[F.Flow, F.Mask]]:
    return F.input_flows(camera.frames)


def integer_pan(frames: int, step: int = 3) -> list[F.Frame]:
    """Windows of one texture, ``step`` px further right each frame: motion the flow
    and the warp reproduce exactly (no resampling, no noise)."""
    tex = scenes.texture(np.random.default_rng(5), 96, 160 + step * frames)
    return [np.ascontiguousarray(tex[:, t * step:t * step + 160]) for t in range(frames)]


def test_output_moving_exactly_with_the_scene_scores_zero() -> None:
    clip = integer_pan(8)
    result = F.warping_errors(clip, clip)
    assert result.mean < 2e-5
    assert len(result.per_frame) == len(result.valid_fraction) == 7
    # Only the strip entering on the right each frame is unvouched for.
    assert all(0.9 < v < 1.0 for v in result.valid_fraction)


def test_per_frame_flicker_scores_far_above_a_consistent_output(
        camera: scenes.Clip, camera_flows: list[tuple[F.Flow, F.Mask]]) -> None:
    consistent = F.warping_errors(camera.frames, camera.frames, camera_flows).mean
    model = scenes.flickering_model("convnet")
    flickering = F.warping_errors(camera.frames, [model(f) for f in camera.frames],
                                  camera_flows).mean
    jitter_only = scenes.flickering_model("identity", jitter=6.0)
    jittered = F.warping_errors(camera.frames, [jitter_only(f) for f in camera.frames],
                                camera_flows).mean
    assert consistent < 6e-4  # the noise (2 levels: 1.2e-4) and resampling
    assert flickering > 3 * consistent
    assert jittered > 1.5 * consistent


def test_freezing_scores_low_warping_error_but_poor_fidelity() -> None:
    # A still shot whose light dims: no motion, so the flow is ~0 and a frozen output
    # never changes, while the model's output follows the light.
    still = scenes.static(12, 96, 160)
    dimming = [(f * (1 - 0.04 * t)).astype(np.uint8) for t, f in enumerate(still.frames)]
    model = scenes.flickering_model("convnet")
    per_frame = [model(f) for f in dimming]
    frozen = [per_frame[0]] * len(per_frame)
    assert F.warping_error(dimming, frozen) < 3e-5  # the flow of noise is not quite 0
    assert F.warping_error(dimming, per_frame) > 5e-4
    assert F.fidelity_psnr(frozen, per_frame) < 25
    # A constant output: no flicker anywhere, and nothing like the model's output.
    grey = [np.full_like(per_frame[0], 128)] * len(per_frame)
    assert F.warping_error(dimming, grey) == 0
    assert F.fidelity_psnr(grey, per_frame) < 15


def test_fidelity_psnr_known_values() -> None:
    a = np.full((10, 20, 3), 100, np.uint8)
    b = a.copy()
    assert F.fidelity_psnr([a, a], [b, b]) == math.inf
    b[...] = 110  # MSE 100 everywhere
    assert F.fidelity_psnr([a], [b]) == pytest.approx(10 * math.log10(255**2 / 100))
    # Pooled over frames: one identical frame halves the MSE (+3 dB), not infinity.
    assert F.fidelity_psnr([a, a], [a, b]) == pytest.approx(
        10 * math.log10(255**2 / 50))
    mask = np.zeros((10, 20), bool)
    mask[:5] = True
    c = a.copy()
    c[5:] = 0  # differs only outside the mask
    assert F.fidelity_psnr([a], [c], [mask]) == math.inf
    with pytest.raises(ValueError):
        F.fidelity_psnr([a], [a], [np.zeros((10, 20), bool)])


def test_outputs_at_another_size_are_graded_with_scaled_flow(
        camera: scenes.Clip, camera_flows: list[tuple[F.Flow, F.Mask]]) -> None:
    import cv2

    same = F.warping_errors(camera.frames, camera.frames, camera_flows).mean
    big = [cv2.resize(f, (384, 224), interpolation=cv2.INTER_LINEAR) for f in camera.frames]
    scaled = F.warping_errors(camera.frames, big, camera_flows).mean
    assert scaled < 2 * same


def test_a_cut_leaves_little_valid_flow_and_tiny_frames_work() -> None:
    clip = scenes.scene_cut(8, 96, 160)
    result = F.warping_errors(clip.frames, clip.frames)
    cut = clip.cuts[0]
    assert result.valid_fraction[cut - 1] < min(result.valid_fraction) + 0.5
    assert result.valid_fraction[cut - 1] < 0.6
    # Smaller than DIS takes (padded for it) and long and thin (which crashes bare DIS).
    for h, w in ((9, 7), (10, 60)):
        tiny = [np.roll(integer_pan(1)[0][:h, :w], t, axis=1) for t in range(3)]
        assert np.isfinite(F.warping_error(tiny, tiny))


def test_rejects_bad_input() -> None:
    a = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="frames"):
        F.warping_error([a, a], [a])
    with pytest.raises(ValueError, match="two frames"):
        F.warping_error([a], [a])
    with pytest.raises(ValueError, match="RGB uint8"):
        F.warping_error([a, a], [a.astype(np.float32), a])
