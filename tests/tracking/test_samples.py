"""Tracking on the samples reads the motion the sample script says it drew."""

from __future__ import annotations

import json

import numpy as np
import pytest

from streamgan.media import read_image
from streamgan.tracking import landmarks as L
from streamgan.tracking.facemesh import detect_still
from streamgan.tracking.measures import VideoMeasures, measure_video
from tests.conftest import SAMPLES


def test_target_has_one_open_eyed_closed_mouth_face() -> None:
    faces = detect_still(read_image(SAMPLES / "target.png"))
    assert len(faces) == 1
    assert L.mouth_opening(faces[0]) < 0.05 and L.eye_opening(faces[0]) > 0.2


@pytest.fixture(scope="module")
def driver_measures() -> VideoMeasures:
    return measure_video(SAMPLES / "driver.mp4")


@pytest.mark.parametrize("script_channel,measure", [
    ("yaw", "yaw"), ("pitch", "pitch"), ("roll", "roll"), ("eye_open", "eye"),
    ("mouth_open", "mouth"), ("smile", "smile"),
])
def test_driver_tracking_follows_the_script(script_channel: str, measure: str,
                                            driver_measures: VideoMeasures) -> None:
    script = json.loads((SAMPLES / "driver_script.json").read_text())["frames"]
    measured = driver_measures.channel(measure)
    assert not np.isnan(measured).any()  # tracked on every frame
    truth = np.array([f[script_channel] for f in script])
    assert len(truth) == len(measured)
    assert np.corrcoef(truth, measured)[0, 1] >= 0.9
