"""The reenact path refuses faces without consent and marks everything it writes."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import pytest

from streamgan.cli.main import main
from streamgan.media import read_image, write_image
from streamgan.pipeline.reenact import ReenactReport, ReenactSettings, reenact
from streamgan.safety.consent import ConsentError, ConsentProblem
from streamgan.safety.provenance import read_manifest
from streamgan.safety.watermark import WatermarkKey, detect_file
from tests.conftest import SAMPLE_TRUST, SAMPLES, cut_video

DRIVER = SAMPLES / "driver.mp4"
TARGET = SAMPLES / "target.png"


@pytest.fixture(scope="module")
def marked(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ReenactReport]:
    work = tmp_path_factory.mktemp("marked")
    out = work / "out.mp4"
    report = reenact(cut_video(DRIVER, work / "short.mp4", 40), TARGET, out,
                     ReenactSettings(trust=(SAMPLE_TRUST,)))
    return out, report


def test_untagged_target_is_refused_and_nothing_written(tmp_path: Path) -> None:
    untagged = tmp_path / "untagged.png"
    write_image(untagged, read_image(TARGET))  # same pixels, no tag
    out = tmp_path / "out.mp4"
    with pytest.raises(ConsentError) as caught:
        reenact(DRIVER, untagged, out, ReenactSettings(trust=(SAMPLE_TRUST,)))
    assert caught.value.problem is ConsentProblem.NO_TAG
    assert "streamgan consent grant" in str(caught.value)
    assert list(tmp_path.iterdir()) == [untagged]


def test_sample_target_needs_the_sample_trust(tmp_path: Path) -> None:
    with pytest.raises(ConsentError) as caught:
        reenact(DRIVER, TARGET, tmp_path / "out.mp4")
    assert caught.value.problem is ConsentProblem.UNKNOWN_SIGNER


def test_output_is_watermarked_and_signed_and_input_is_not(
        marked: tuple[Path, ReenactReport]) -> None:
    out, report = marked
    key = WatermarkKey.load_or_create()
    found = detect_file(out, key)
    assert found.present and found.payload == report.watermark
    manifest = read_manifest(out)
    assert manifest.present and manifest.state == "Trusted"
    assert manifest.digital_source_type is not None
    assert manifest.digital_source_type.endswith("trainedAlgorithmicMedia")
    assert manifest.watermark_payload == report.watermark
    assert manifest.consent_record_id == report.consent_record
    assert not detect_file(DRIVER, key).present
    assert not read_manifest(DRIVER).present


def test_watermark_survives_a_re_encode_that_strips_the_manifest(
        marked: tuple[Path, ReenactReport], tmp_path: Path) -> None:
    out, report = marked
    copy = tmp_path / "reencoded.mp4"
    with av.open(str(out)) as src, av.open(str(copy), "w") as dst:
        stream = dst.add_stream("libx264", rate=25)
        ctx = src.streams.video[0].codec_context
        stream.width, stream.height, stream.pix_fmt = ctx.width, ctx.height, "yuv420p"
        stream.codec_context.time_base = Fraction(1, 25)
        stream.options = {"crf": "30"}
        for i, frame in enumerate(src.decode(video=0)):
            frame.pts = i
            for p in stream.encode(frame):
                dst.mux(p)
        for p in stream.encode(None):
            dst.mux(p)
    assert not read_manifest(copy).present
    found = detect_file(copy, WatermarkKey.load_or_create())
    assert found.present and found.payload == report.watermark


def test_verify_json(marked: tuple[Path, ReenactReport],
                     capsys: pytest.CaptureFixture[str]) -> None:
    out, report = marked
    assert main(["verify", str(out), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["watermark"]["present"] is True
    assert result["watermark"]["payload"] == report.watermark
    assert 0.0 <= result["watermark"]["confidence"] <= 1.0
    assert result["manifest"]["state"] == "Trusted"
    assert result["watermark"]["matches_manifest"] is True
    assert main(["verify", str(DRIVER), "--json"]) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["watermark"]["present"] is False and plain["manifest"]["present"] is False
