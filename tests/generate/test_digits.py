from __future__ import annotations

import numpy as np
import pytest

from streamgan.generate.digits import bounce, load_digits, render_clip

pytest.importorskip("sklearn")


def test_splits_do_not_overlap_and_cover_every_digit() -> None:
    train, held = load_digits("train"), load_digits("heldout")
    assert len(train.labels) == 1500 and len(held.labels) == 297
    assert set(train.labels) == set(held.labels) == set(range(10))
    assert not any((held.alpha[i] == train.alpha).all((1, 2)).any() for i in range(20))


def test_bounce_stays_inside_and_reflects() -> None:
    p = bounce(np.array([1.0, 9.0]), np.array([-1.0, 2.0]), 12, room=10.0)
    assert (p >= 0).all() and (p <= 10).all()
    assert p[2, 0] == pytest.approx(1.0)  # 1 -> 0 -> 1: reflected off the wall
    assert np.allclose(np.abs(np.diff(p[:, 0])), 1.0)


def test_a_clip_has_a_static_background_and_one_moving_digit() -> None:
    clip = render_clip(np.random.default_rng(0), load_digits("train"), 8, 64)
    frames = clip.frames.astype(int)
    bright = frames.mean(-1) > 185
    assert bright.any(1).any(1).all()  # the digit shows in every frame
    # Outside the boxes the digit passes through, the picture never changes.
    passes = np.zeros(frames.shape[1:3], bool)
    for x, y in clip.positions:
        passes[int(y):int(y) + clip.box + 2, int(x):int(x) + clip.box + 2] = True
    changed = np.ptp(frames, axis=0).max(-1) > 0
    assert changed.any() and not (changed & ~passes).any()
    assert np.linalg.norm(clip.positions[-1] - clip.positions[0]) > 1


def test_swapping_changes_the_digit_from_that_frame() -> None:
    digits = load_digits("heldout")
    a = render_clip(np.random.default_rng(3), digits, 8, 32)
    b = render_clip(np.random.default_rng(3), digits, 8, 32, swap_at=4)
    assert np.array_equal(a.frames[:4], b.frames[:4])
    assert not np.array_equal(a.frames[4:], b.frames[4:])
