"""The filters' two stages: tracking (conversion, face) and rendering (picture, mark)."""

from __future__ import annotations

import av
import pytest

from apps.webrtc import TargetCatalog
from apps.webrtc.filters import TRACK_SIDE, ReenactFilter, Tracked, make_filter


def test_reenact_tracks_then_renders_the_target(catalog: TargetCatalog,
                                                driver_frames: list[av.VideoFrame]) -> None:
    reenact = make_filter("reenact", catalog["target"])
    assert isinstance(reenact, ReenactFilter)
    try:
        # One face only: MediaPipe skips its detector while it follows that face.
        assert reenact.session.tracker.settings.max_faces == 1
        width, height = catalog["target"].target.size
        for frame in driver_frames[:5]:
            big = frame.reformat(width=frame.width * 2, height=frame.height * 2)
            tracked = reenact.track(big)
            assert max(tracked.image.shape[:2]) == TRACK_SIDE  # tracked no larger than this
            assert tracked.track is not None and tracked.track.detected
            assert tracked.time == pytest.approx(float(frame.time or 0.0))
            picture = reenact.render(tracked)
            assert picture.shape == (height * 3 // 2, width)
        with pytest.raises(ValueError, match="tracked"):
            reenact.render(Tracked(tracked.frame, tracked.image, 0.0))
    finally:
        reenact.close()

