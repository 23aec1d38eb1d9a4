import cv2
import numpy as np
import pytest

from streamgan.translate import flicker as F
from streamgan.translate.temporal import TemporalFilter, TemporalSettings, flow_size
from tests.translate import scenes


def run(clip: scenes.Clip, per_frame: list[F.Frame],
        settings: TemporalSettings | None = None) -> tuple[list[F.Frame], TemporalFilter]:
    filt = TemporalFilter(settings)
    return [filt(f, o) for f, o in zip(clip.frames, per_frame, strict=True)], filt


def rmse(a: list[F.Frame], b: list[F.Frame], masks: list[F.Mask]) -> float:
    """Root mean squared difference (levels) over the masked pixels of all frames."""
    sq = [((x.astype(np.float32) - y) ** 2).mean(axis=2)[m]
          for x, y, m in zip(a, b, masks, strict=True)]
    return float(np.sqrt(np.concatenate(sq).mean()))


def test_halves_the_warping_error_on_camera_motion_within_30_db() -> None:
    """The issue's goal, with the flickering stand-in model."""
    clip = scenes.camera_motion(30, 144, 256)
    model = scenes.flickering_model("convnet")
    per_frame = [model(f) for f in clip.frames]
    filtered, filt = run(clip, per_frame)
    flows = F.input_flows(clip.frames)
    before = F.warping_errors(clip.frames, per_frame, flows).mean
    after = F.warping_errors(clip.frames, filtered, flows).mean
    assert after <= 0.5 * before, (before, after)
    assert F.fidelity_psnr(filtered, per_frame) >= 30
    assert filt.cuts == 0
    # Never further from the per-frame output than the cap.
    cap = filt.settings.max_deviation
    assert max(int(np.abs(a.astype(np.int16) - b).max())
               for a, b in zip(filtered, per_frame, strict=True)) <= cap


@pytest.mark.parametrize("frames", [24, 48])  # the same path: 11 or 5 px a frame
def test_no_ghosting_where_pixels_are_uncovered(frames: int) -> None:
    """Where the passing object (and the thin pole) uncover the background, the
    filtered output must be the per-frame output, not the old object carried along.

    The renderer knows exactly which pixels each frame reveals; the filter's
    difference from the per-frame output there must not exceed its difference
    elsewhere (a ghost makes it much larger: see the naive filter below)."""
    clip = scenes.occlusion(frames, 144, 256)
    model = scenes.flickering_model("convnet")
    per_frame = [model(f) for f in clip.frames]
    revealed = [m.copy() for m in clip.disoccluded]
    revealed[0][:] = False
    rest = [~m for m in revealed]
    rest[0][:] = False
    assert sum(int(m.sum()) for m in revealed) > 700 * frames
    filtered, _ = run(clip, per_frame)
    there, elsewhere = rmse(filtered, per_frame, revealed), rmse(filtered, per_frame, rest)
    assert there < elsewhere, (there, elsewhere)
    # The check can see ghosts: without the occlusion and photometric checks and the
    # cap, the same blend drags the old picture into the uncovered pixels.
    naive = TemporalSettings(strength=0.8, max_deviation=255, occlusion_absolute=1e9,
                             photometric=1e9, dilate=0, cut_invalid=1.0, cut_residual=255)
    ghosted, _ = run(clip, per_frame, naive)
    g_there, g_elsewhere = rmse(ghosted, per_frame, revealed), rmse(ghosted, per_frame, rest)
    assert g_there > 1.2 * g_elsewhere, (g_there, g_elsewhere)
    assert g_there > 2 * there


def test_a_scene_cut_restarts_the_filter() -> None:
    clip = scenes.scene_cut(16, 96, 160)
    model = scenes.flickering_model("convnet")
    per_frame = [model(f) for f in clip.frames]
    filtered, filt = run(clip, per_frame)
    cut = clip.cuts[0]
    assert filt.cuts == 1
    np.testing.assert_array_equal(filtered[0], per_frame[0])
    np.testing.assert_array_equal(filtered[cut], per_frame[cut])
    assert not np.array_equal(filtered[cut + 1], per_frame[cut + 1])  # smoothing again


def test_no_drift_or_darkening_over_a_long_still_clip() -> None:
    """120 frames of re-warping the same picture must not creep away from the model's
    output: the mean colour of the filtered frames stays that of the per-frame ones."""
    clip = scenes.static(120, 72, 128)
    for jitter, frames, tolerance in ((0.0, slice(100, 120), 0.2), (6.0, slice(10, 120), 0.3)):
        # Without jitter the model flickers only with the noise, and any bias of the
        # filter would show in the last frames. With jitter the filter evens out
        # 4-level colour jumps frame to frame (that is its job), which averages out
        # over the clip (an exponential average keeps the mean), not over 20 frames.
        model = scenes.flickering_model("convnet", jitter=jitter)
        per_frame = [model(f) for f in clip.frames]
        filtered, _ = run(clip, per_frame)
        offset = np.mean([a.mean(axis=(0, 1)) - b.mean(axis=(0, 1)) for a, b in
                          zip(filtered[frames], per_frame[frames], strict=True)], axis=0)
        assert np.abs(offset).max() < tolerance, (jitter, offset)  # per channel, levels
        late = slice(100, 120)
        assert F.fidelity_psnr(filtered[late], per_frame[late]) > 30
        # ... and it keeps smoothing: the late frames still flicker much less.
        steps = [np.abs(a.astype(np.float32) - b).mean() for a, b in
                 zip(filtered[101:120], filtered[100:119], strict=True)]
        raw_steps = [np.abs(a.astype(np.float32) - b).mean() for a, b in
                     zip(per_frame[101:120], per_frame[100:119], strict=True)]
        assert np.mean(steps) < 0.6 * np.mean(raw_steps), jitter


def test_reset_forgets_the_stream() -> None:
    clip = scenes.camera_motion(6, 72, 128)
    model = scenes.flickering_model("convnet")
    per_frame = [model(f) for f in clip.frames]
    filt = TemporalFilter()
    np.testing.assert_array_equal(filt(clip.frames[0], per_frame[0]), per_frame[0])
    second = filt(clip.frames[1], per_frame[1])
    assert not np.array_equal(second, per_frame[1])
    filt.reset()
    np.testing.assert_array_equal(filt(clip.frames[3], per_frame[3]), per_frame[3])
    fresh = TemporalFilter()
    fresh(clip.frames[3], per_frame[3])
    np.testing.assert_array_equal(filt(clip.frames[4], per_frame[4]),
                                  fresh(clip.frames[4], per_frame[4]))
    # The returned frame is the caller's: scribbling on it changes nothing inside.
    out = filt(clip.frames[5], per_frame[5])
    out[:] = 0
    assert filt._prev_out is not None and filt._prev_out.any()


@pytest.mark.parametrize(("source_size", "out_size"), [
    ((37, 23), (37, 23)),  # odd, and smaller than DIS takes (padded)
    ((101, 57), (203, 113)),  # the model upscales, by an odd factor
    ((160, 90), (81, 45)),  # the model downscales
    ((150, 20), (150, 20)),  # long and thin: bare DIS crashes on such pictures
    ((7, 5), (7, 5)),  # tiny
])
def test_odd_and_mismatched_sizes(source_size: tuple[int, int],
                                  out_size: tuple[int, int]) -> None:
    w, h = source_size
    clip = scenes.camera_motion(8, h, w)
    model = scenes.flickering_model("identity", jitter=6.0)
    per_frame = [cv2.resize(model(f), out_size, interpolation=cv2.INTER_AREA)
                 for f in clip.frames]
    filtered, filt = run(clip, per_frame)
    assert all(f.shape == (out_size[1], out_size[0], 3) and f.dtype == np.uint8
               for f in filtered)
    assert filt.cuts == 0
    if min(out_size) >= 20:
        big = [cv2.resize(f, out_size, interpolation=cv2.INTER_AREA) for f in clip.frames]
        before = F.warping_error(big, per_frame)
        assert F.warping_error(big, filtered) < 0.75 * before


def test_views_and_reused_buffers() -> None:
    """Frames may be views (flipped, cropped) and the caller may reuse its buffers."""
    clip = scenes.camera_motion(5, 72, 128)
    flipped = [f[:, ::-1] for f in clip.frames]
    filt, reference = TemporalFilter(), TemporalFilter()
    source, out = np.empty_like(clip.frames[0]), np.empty_like(clip.frames[0])
    for f, g in zip(clip.frames, flipped, strict=True):
        source[:], out[:] = f, g  # one buffer each, overwritten every frame
        got = filt(source, out)
        np.testing.assert_array_equal(got, reference(f, np.ascontiguousarray(g)))


def test_a_new_size_mid_stream_restarts() -> None:
    a = scenes.camera_motion(3, 72, 128)
    b = scenes.camera_motion(2, 90, 160)
    filt = TemporalFilter()
    for f in a.frames:
        filt(f, f)
    np.testing.assert_array_equal(filt(b.frames[0], b.frames[0]), b.frames[0])
    assert filt(b.frames[1], b.frames[1]).shape == b.frames[1].shape


def test_strength_zero_is_the_per_frame_output() -> None:
    clip = scenes.camera_motion(4, 72, 128)
    jitter = scenes.flickering_model("identity", jitter=6.0)
    per_frame = [jitter(f) for f in clip.frames]
    filtered, _ = run(clip, per_frame, TemporalSettings(strength=0.0))
    for a, b in zip(filtered, per_frame, strict=True):
        np.testing.assert_array_equal(a, b)


def test_settings_are_checked() -> None:
    for bad in ({"strength": 1.0}, {"strength": -0.1}, {"preset": "slow"},
                {"flow_side": 8}, {"max_deviation": 300}, {"photometric": 0.0}):
        with pytest.raises(ValueError):
            TemporalSettings(**bad)
    with pytest.raises(ValueError, match="RGB uint8"):
        TemporalFilter()(np.zeros((8, 8), np.uint8), np.zeros((8, 8, 3), np.uint8))


def test_flow_size() -> None:
    assert flow_size(640, 360, 320) == (320, 180)
    assert flow_size(1280, 720, 320) == (320, 180)
    assert flow_size(200, 100, 320) == (200, 100)  # never scaled up
    assert flow_size(1920, 60, 320) == (1024, 32)  # the short side keeps 32 px
