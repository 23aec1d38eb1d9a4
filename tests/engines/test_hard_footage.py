"""``warp`` on driver clips with the hard properties of real footage (issue 12).

The clips come from ``samples/make_hard_clips.py``: a near-still webcam clip (sensor
noise, camera shake, small slow pose, real blink timing) and a talking clip with a
blue-gloved hand passing over the mouth and an eye. Each figure is measured on the
output with the project's own tracker, as a reviewer would, next to the driver's.
Goals of issue 12 not reached yet (eyes closing fully: about 0.70 of the driver's
amplitude here) are measured by ``benchmarks/reenact_hard.py``, not asserted.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import av
import cv2
import numpy as np
import pytest

from streamgan.pipeline.reenact import ReenactSettings, reenact
from streamgan.pipeline.target import load_target
from streamgan.tracking import landmarks as L
from streamgan.tracking.measures import VideoMeasures, measure_video
from tests.conftest import REPO, SAMPLE_TRUST, SAMPLES

pytestmark = pytest.mark.slow


def _load_maker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_hard_clips",
                                                  REPO / "samples" / "make_hard_clips.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("hard")
    _load_maker().generate(folder)
    settings = ReenactSettings(trust=(SAMPLE_TRUST,), audio=False)
    for name in ("still_webcam", "occluded"):
        reenact(folder / f"{name}.mp4", SAMPLES / "target.png", folder / f"out_{name}.mp4",
                settings)
    return folder


def _amplitude(values: np.ndarray) -> float:
    values = values[~np.isnan(values)]
    return float(np.percentile(values, 98) - np.percentile(values, 2))


def _jitter(measures: VideoMeasures) -> float:
    """Second-difference energy of the landmarks, in face heights (shimmer)."""
    marks = [m for m in measures.landmarks if m is not None]
    points = np.stack([m[:, :2] for m in marks])
    second = points[2:] - 2 * points[1:-1] + points[:-2]
    height = float(np.median([L.face_height(m) for m in marks]))
    return float(np.sqrt((second ** 2).sum(-1).mean())) / height


def test_a_near_still_noisy_driver_gives_a_steady_output_that_follows(clips: Path) -> None:
    driver = measure_video(clips / "still_webcam.mp4")
    out = measure_video(clips / "out_still_webcam.mp4")
    assert _jitter(out) <= 1.3 * _jitter(driver)  # no shimmer added on a still face
    mouth = _amplitude(out.channel("mouth")) / _amplitude(driver.channel("mouth"))
    assert 0.75 <= mouth <= 1.33
    yaw = np.corrcoef(driver.channel("yaw"), out.channel("yaw"))[0, 1]
    assert yaw >= 0.75  # 2-3 degree head motion still reaches the output


def _glove_pixels_in_face(video: Path) -> list[int]:
    target = load_target(SAMPLES / "target.png")
    face = np.zeros(target.image.shape[:2], np.uint8)
    cv2.fillPoly(face, [target.landmarks[list(L.FACE_OVAL), :2].astype(np.int32)], 1)
    face = cv2.dilate(face, np.ones((15, 15), np.uint8)).astype(bool)
    counts = []
    with av.open(str(video)) as container:
        for frame in container.decode(video=0):
            rgb = frame.to_ndarray(format="rgb24").astype(int)
            r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
            glove = (b > r + 80) & (b > g + 50)
            counts.append(int((glove & face[: rgb.shape[0], : rgb.shape[1]]).sum()))
    return counts


def test_an_occluded_mouth_never_copies_the_occluder(clips: Path) -> None:
    covered = json.loads((clips / "occluded.json").read_text())["covered"]
    assert sum(row["mouth"] for row in covered) >= 20
    # Control: measured on the driver itself, the glove is there in every covered frame.
    assert sum(n > 1000 for n in _glove_pixels_in_face(clips / "occluded.mp4")) >= 30
    assert max(_glove_pixels_in_face(clips / "out_occluded.mp4")) <= 5
