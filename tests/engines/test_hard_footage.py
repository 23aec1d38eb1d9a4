"""``warp`` on driver clips with the hard properties of real footage (issue 12).

The clips come from ``samples/make_hard_clips.py``: a near-still webcam clip (sensor
noise, camera shake, small slow pose, real blink timing) and a talking clip with a
blue-gloved hand passing over the mouth and an eye. Each figure is measured on the
output with the project's own tracker, as a reviewer would, next to the driver's.
The figures for the README come from ``benchmarks/reenact_hard.py``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamgan.pipeline.reenact import ReenactSettings, reenact
from streamgan.tracking.measures import measure_video
from tests.conftest import SAMPLE_TRUST, SAMPLES, fixed_watermark, sample_script

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The clips and their outputs. Every output gets the same watermark payload: a new
    random one each run moves FaceMesh's readings of the marked frames (the gloved
    clip's eye amplitude over five runs: 0.94-1.12, once 1.20), and these tests judge
    the engine, not the mark."""
    folder = tmp_path_factory.mktemp("hard")
    sample_script("make_hard_clips").generate(folder)
    settings = ReenactSettings(trust=(SAMPLE_TRUST,), audio=False)
    with pytest.MonkeyPatch.context() as patch:
        fixed_watermark(patch)
        for name in ("still_webcam", "occluded", "bare_hand"):
            reenact(folder / f"{name}.mp4", SAMPLES / "target.png",
                    folder / f"out_{name}.mp4", settings)
    return folder


def test_a_near_still_noisy_driver_gives_a_steady_output_that_follows(clips: Path) -> None:
    driver = measure_video(clips / "still_webcam.mp4")
    out = measure_video(clips / "out_still_webcam.mp4")
    assert out.jitter() <= 1.3 * driver.jitter()  # no shimmer added on a still face
    assert 0.75 <= out.amplitude("mouth") / driver.amplitude("mouth") <= 1.33
    # Blinks as deep as the driver's (measured 1.05; 0.71-0.76 before eyes could shut).
    assert 0.8 <= out.amplitude("eye") / driver.amplitude("eye") <= 1.25
    assert out.follows(driver, "yaw") >= 0.75  # 2-3 degree head motion reaches the output
    # Blinks of 2-3 frames are steadied, not delayed: the lids' smoothing costs about
    # half a frame (0.51 measured, before and after this check was written).
    assert out.lag(driver, "eye") < 0.75


def test_an_occluded_mouth_never_copies_the_occluder(clips: Path) -> None:
    covered = json.loads((clips / "occluded.json").read_text())["covered"]
    assert sum(row["mouth"] for row in covered) >= 20
    # Control: measured on the driver itself, the glove is there in every covered frame.
    maker = sample_script("make_hard_clips")
    face = maker.face_region(SAMPLES / "target.png")
    assert sum(n > 1000 for n in maker.glove_pixels(clips / "occluded.mp4", face)) >= 30
    assert max(maker.glove_pixels(clips / "out_occluded.mp4", face)) <= 5


def test_a_bare_hand_over_the_mouth_is_not_copied(clips: Path) -> None:
    """A skin-coloured hand has no colour to give it away: the interior is refused for
    looking like lit skin, where a mouth shows teeth, tongue and shadow. Judged on the
    output's open mouth in the covered frames (measured max 0.32, mean 0.10). The judge
    is weak here: FaceMesh sees the output's lips under the hand barely open, and the
    engine before this check scored max 0.37, mean 0.14 on the same frames; the
    refusal itself is tested in test_mouth, and shows by eye as a dark mouth instead of
    a skin-filled gap."""
    maker = sample_script("make_hard_clips")
    script = clips / "bare_hand.json"
    driver = maker.mouth_skin(clips / "bare_hand.mp4", script)
    out = maker.mouth_skin(clips / "out_bare_hand.mp4", script)
    # Control: the driver's own open mouth under the hand is mostly hand.
    assert len(driver) >= 8 and sorted(driver)[len(driver) // 2] >= 0.6
    assert len(out) >= 8 and max(out) <= 0.45


def test_a_covered_eye_does_not_flutter(clips: Path) -> None:
    """While the glove is over an eye, FaceMesh still places lids on it, anywhere; the
    output holds the eye's last opening: amplitude 0.94-1.20 of the driver's over six
    runs with random marks, 1.31-1.33 over three when it followed the guesses."""
    driver = measure_video(clips / "occluded.mp4")
    out = measure_video(clips / "out_occluded.mp4")
    assert out.amplitude("eye") / driver.amplitude("eye") <= 1.25


def test_a_bare_hand_over_an_eye_leaves_the_eye_open(clips: Path) -> None:
    """Under a skin-coloured hand FaceMesh guesses the eye half shut; the output keeps
    the eye as it was before the hand came (seen by nothing dark showing through the
    hand). Judged on the eyes' opening in the covered frames while the script holds
    them open, against the frames before the hand enters: the lowest is 0.87 on the
    output, 0.73 before the check, and 0.73 on the driver itself (the control)."""
    maker = sample_script("make_hard_clips")
    script = clips / "bare_hand.json"
    under = [row["eye"] for row in json.loads(script.read_text())["covered"]]
    assert sum(under) >= 15
    # Control: the judge sees FaceMesh's guesses dip on the driver itself.
    assert maker.eye_held(clips / "bare_hand.mp4", script) < 0.78
    assert maker.eye_held(clips / "out_bare_hand.mp4", script) >= 0.8
