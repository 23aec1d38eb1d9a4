"""``streamgan translate``: the whole file path, its safety marks, and its errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from streamgan.cli.main import main
from streamgan.media import AudioPacket, VideoReader
from streamgan.safety.provenance import read_manifest
from streamgan.safety.watermark import WatermarkKey, detect_file
from streamgan.translate.engine import Translator
from streamgan.translate.flicker import warping_error
from streamgan.translate.formats import load_generator
from tests.conftest import SAMPLES, cut_video, one_line_error
from tests.media.synth import make_video, video_timestamps


def frames_of(path: Path) -> list[np.ndarray]:
    with VideoReader(path, audio=False) as reader:
        return [item.image for item in reader if not isinstance(item, AudioPacket)]


def has_audio(path: Path) -> bool:
    with VideoReader(path) as reader:
        return reader.audio_stream is not None


def test_translate_keeps_timing_and_audio_and_marks_the_edit(
        moving_clip: Path, fast_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    assert main(["translate", str(moving_clip), "-o", str(out), "--model", str(fast_model),
                 "-q"]) == 0
    assert video_timestamps(out) == video_timestamps(moving_clip)
    assert has_audio(out)
    inputs, outputs = frames_of(moving_clip), frames_of(out)
    assert len(outputs) == len(inputs) == 16
    # Translated: far from the input, close to what the model makes of each frame.
    translator = Translator(load_generator(fast_model))
    per_frame = translator(inputs)
    assert np.mean([np.abs(o.astype(float) - i).mean() for o, i in zip(outputs, inputs,
                                                                        strict=True)]) > 15
    assert np.mean([np.abs(o.astype(float) - p).mean() for o, p in zip(outputs, per_frame,
                                                                        strict=True)]) < 8
    found = detect_file(out, WatermarkKey.load_or_create())
    manifest = read_manifest(out)
    assert found.present and manifest.watermark_payload == found.payload
    assert manifest.state in ("Trusted", "Valid") and manifest.action == "c2pa.edited"
    assert manifest.parameters["model"] == "random"
    assert manifest.parameters["model_sha256"] == load_generator(fast_model).sha256
    assert manifest.digital_source_type is not None
    assert manifest.digital_source_type.endswith("/trainedAlgorithmicMedia")


def test_temporal_smoothing_lowers_the_flicker_of_the_file(
        moving_clip: Path, fast_model: Path, tmp_path: Path) -> None:
    plain, smooth = tmp_path / "plain.mp4", tmp_path / "smooth.mp4"
    common = [str(moving_clip), "--model", str(fast_model), "-q", "--crf", "10"]
    assert main(["translate", *common, "-o", str(plain), "--no-temporal"]) == 0
    assert main(["translate", *common, "-o", str(smooth)]) == 0
    inputs = frames_of(moving_clip)
    e_plain = warping_error(inputs, frames_of(plain))
    e_smooth = warping_error(inputs, frames_of(smooth))
    assert e_smooth < 0.8 * e_plain, (e_plain, e_smooth)


@pytest.mark.parametrize("region", ["person", "face"])
def test_region_leaves_the_rest_of_the_frame_untouched(region: str, fast_model: Path,
                                                       tmp_path: Path) -> None:
    clip = cut_video(SAMPLES / "driver.mp4", tmp_path / "d.mp4", 4)
    out = tmp_path / f"{region}.mp4"
    assert main(["translate", str(clip), "-o", str(out), "--model", str(fast_model),
                 "--region", region, "--no-temporal", "-q"]) == 0
    for source, result in zip(frames_of(clip), frames_of(out), strict=True):
        diff = np.abs(result.astype(float) - source).mean(axis=2)
        assert diff[:40, :60].mean() < 4  # the room's top-left corner: as it was
        assert diff[:40, -60:].mean() < 4
        centre = diff[150:200, 290:350]  # the middle of the face: translated
        assert centre.mean() > 25, centre.mean()
    manifest = read_manifest(out)
    assert manifest.digital_source_type is not None
    assert manifest.digital_source_type.endswith("/compositeWithTrainedAlgorithmicMedia")


def test_odd_frame_sizes_work(fast_model: Path, tmp_path: Path) -> None:
    clip = make_video(tmp_path / "odd.mp4", frames=3, size=(66, 50))
    out = tmp_path / "o.mp4"
    assert main(["translate", str(clip), "-o", str(out), "--model", str(fast_model),
                 "-q"]) == 0
    assert frames_of(out)[0].shape == (50, 66, 3)


def test_bad_inputs_are_one_line_errors_and_leave_nothing(
        moving_clip: Path, fast_model: Path, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out.mp4"
    corrupt = tmp_path / "corrupt.pth"
    corrupt.write_bytes(fast_model.read_bytes()[:500])
    image = tmp_path / "still.png"
    from PIL import Image

    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(image)
    cases = [
        ([str(moving_clip), "--model", "no-such-style"], "unknown model 'no-such-style'"),
        ([str(moving_clip), "--model", str(tmp_path / "missing.pth")], "no such model file"),
        ([str(moving_clip), "--model", str(corrupt)], "not a readable checkpoint"),
        ([str(moving_clip), "--model", str(SAMPLES.parent / "models" / "vgan-digits" /
                                           "model.pt")], "video GAN"),
        ([str(image), "--model", str(fast_model)], "still image"),
    ]
    for args, needle in cases:
        assert main(["translate", *args, "-o", str(out)]) == 1, args
        one_line_error(capsys.readouterr().err, needle)
    assert not out.exists()
    assert main(["translate", str(moving_clip), "-o", str(tmp_path / "no" / "dir" / "o.mp4"),
                 "--model", str(fast_model)]) == 1
    one_line_error(capsys.readouterr().err)
    assert main(["translate", str(moving_clip), "-o", str(moving_clip),
                 "--model", str(fast_model)]) == 1
    one_line_error(capsys.readouterr().err, "overwrite an input")
    assert main(["translate", str(moving_clip), "-o", str(tmp_path / "o.mkv"),
                 "--model", str(fast_model)]) == 1
    one_line_error(capsys.readouterr().err, ".mp4")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corrupt.pth", "still.png"]
