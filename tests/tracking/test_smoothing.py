import numpy as np

from streamgan.tracking.smoothing import OneEuroFilter


def test_still_face_does_not_shimmer() -> None:
    rng = np.random.default_rng(0)
    f = OneEuroFilter()
    truth = np.full((478, 3), 100.0)
    raw, out = [], []
    for i in range(100):
        x = truth + rng.normal(0, 0.6, truth.shape)  # MediaPipe-like sub-pixel jitter
        raw.append(x)
        out.append(f(x, i / 25, scale=60.0))
    raw_jitter = np.diff(np.array(raw[20:]), axis=0).std()
    out_jitter = np.diff(np.array(out[20:]), axis=0).std()
    assert out_jitter < 0.35 * raw_jitter


def test_fast_motion_does_not_trail() -> None:
    f = OneEuroFilter()
    lag = []
    for i in range(50):
        x = np.full((4, 2), 10.0 * i)  # a face moving 4 face sizes a second
        lag.append(float((x - f(x, i / 25, scale=60.0)).mean()))
    # Once up to speed, the filtered value trails by less than a frame's motion.
    assert max(lag[10:]) < 10.0


def test_repeated_timestamp_returns_last_value() -> None:
    f = OneEuroFilter()
    first = f(np.zeros(3), 0.0)
    again = f(np.ones(3), 0.0)
    np.testing.assert_array_equal(first, again)
