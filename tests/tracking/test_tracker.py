"""FaceTracker against an in-process fake FaceMesh that replays scripted faces."""

from __future__ import annotations

import numpy as np
import pytest

from streamgan.tracking.facemesh import face_area
from streamgan.tracking.tracker import FaceTracker, TrackerSettings


def _face(cx: float, cy: float, size: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack([rng.uniform(-1, 1, (478, 2)) * size + (cx, cy),
                            rng.uniform(-1, 1, 478) * size / 4])


class FakeMesh:
    """Returns the faces listed per call, largest first, like FaceMesh.detect; opened
    again (``reopen``) it goes on with the script, and remembers each ``max_faces``."""

    def __init__(self, frames: list[list[np.ndarray]]) -> None:
        self.frames = frames
        self.calls = 0
        self.opened: list[int] = []
        self.closed = 0

    def reopen(self, max_faces: int) -> FakeMesh:
        self.opened.append(max_faces)
        return self

    def detect(self, rgb: np.ndarray) -> list[np.ndarray]:
        faces = self.frames[self.calls]
        self.calls += 1
        return sorted(faces, key=face_area, reverse=True)

    def close(self) -> None:
        self.closed += 1


FRAME = np.zeros((8, 8, 3), np.uint8)


def _tracker(frames: list[list[np.ndarray]], **kw: object) -> FaceTracker:
    return FaceTracker(TrackerSettings(smoothing=None, **kw),
                       FakeMesh(frames).reopen)  # type: ignore[arg-type]


def test_largest_face_by_default_and_index_picks_others() -> None:
    small, big = _face(50, 50, 10), _face(200, 50, 30)
    t = _tracker([[small, big]])
    np.testing.assert_array_equal(t.track(FRAME, 0).landmarks, big)
    t = _tracker([[small, big]], face_index=1)
    np.testing.assert_array_equal(t.track(FRAME, 0).landmarks, small)


def test_follows_the_same_face_when_sizes_swap() -> None:
    a0, b0 = _face(50, 50, 30), _face(300, 50, 10)
    a1, b1 = _face(55, 50, 10), _face(300, 50, 30)  # the first face shrinks, the other grows
    t = _tracker([[a0, b0], [a1, b1]])
    t.track(FRAME, 0.0)
    np.testing.assert_array_equal(t.track(FRAME, 0.04).landmarks, a1)


def test_lost_face_is_held_and_counted() -> None:
    a = _face(50, 50, 30)
    t = _tracker([[a], [], [], [a + 1]])
    assert t.track(FRAME, 0.0).detected
    lost = t.track(FRAME, 0.04)
    assert not lost.detected and lost.confidence == 0
    np.testing.assert_array_equal(lost.landmarks, a)
    t.track(FRAME, 0.08)
    back = t.track(FRAME, 0.12)
    assert back.detected
    assert t.frames == 4 and t.frames_lost == 2


def test_no_face_before_first_detection() -> None:
    t = _tracker([[], [_face(50, 50, 30)]])
    first = t.track(FRAME, 0.0)
    assert first.landmarks is None and not first.detected


def test_reacquires_after_long_loss_elsewhere() -> None:
    a, far = _face(50, 50, 20), _face(400, 300, 20)
    t = _tracker([[a], [], [far]])
    t.track(FRAME, 0.0)
    t.track(FRAME, 0.04)
    assert t.track(FRAME, 2.0).detected  # long gone: the face is picked afresh


def test_confidence_drops_for_a_distorted_shape() -> None:
    a = _face(50, 50, 30)
    warped = a.copy()
    warped[:, 0] *= np.linspace(0.5, 1.5, 478)  # not a rigid motion of the same face
    t = _tracker([[a], [a + 2], [warped]])
    t.track(FRAME, 0.0)
    assert t.track(FRAME, 0.04).confidence > 0.95
    assert t.track(FRAME, 0.08).confidence < 0.5


def test_negative_index_rejected() -> None:
    with pytest.raises(ValueError):
        _tracker([], face_index=-1)


def test_a_video_of_one_face_is_followed_alone_once_settled() -> None:
    """MediaPipe runs its detector on every frame while it finds fewer faces than it
    looks for: once only one face has been seen for a while, it looks for one."""
    a = _face(50, 50, 30)
    mesh = FakeMesh([[a + i] for i in range(6)])
    t = FaceTracker(TrackerSettings(smoothing=None, settle_frames=3), mesh.reopen)  # type: ignore[arg-type]
    for i in range(6):
        np.testing.assert_array_equal(t.track(FRAME, i * 0.04).landmarks, a + i)
    assert mesh.opened == [2, 1] and mesh.closed == 1


def test_two_faces_or_a_chosen_face_keep_looking_for_several() -> None:
    a, b = _face(50, 50, 30), _face(300, 50, 10)
    mesh = FakeMesh([[a, b], [a], [a, b], [a], [a]])
    t = FaceTracker(TrackerSettings(smoothing=None, settle_frames=3), mesh.reopen)  # type: ignore[arg-type]
    for i in range(5):
        t.track(FRAME, i * 0.04)
    assert mesh.opened == [2]  # never three single-face frames in a row
    mesh = FakeMesh([[a, b]] * 5)
    t = FaceTracker(TrackerSettings(smoothing=None, settle_frames=3, face_index=1),
                    mesh.reopen)  # type: ignore[arg-type]
    for i in range(5):
        t.track(FRAME, i * 0.04)
    assert mesh.opened == [3]
