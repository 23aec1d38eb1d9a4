"""``streamgan train fsgan``: consent first, then a resumable run whose files the
engine reads; the same step on two DDP processes; one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamgan.cli.main import main
from streamgan.engines.fsgan.checkpoint import load_model
from tests.conftest import SAMPLES, cut_video, one_line_error, torchrun_two


def _args(video: Path, out: Path, steps: int, trust: Path | None, *extra: str) -> list[str]:
    args = ["train", "fsgan", "--videos", str(video), "-o", str(out), "--preset", "tiny",
            "--steps", str(steps), "--batch", "2", "--device", "cpu", "--threads", "2", "-q",
            *extra]
    return args + (["--trust", str(trust)] if trust else [])


def test_run_writes_model_card_preview_then_resumes(consented_clip: Path, test_signer: Path,
                                                    tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(_args(consented_clip, out, 2, test_signer)) == 0
    for name in ("model.pt", "last.pt", "card.md", "preview.png", "losses.jsonl"):
        assert (out / name).is_file(), name
    model, facts = load_model(out / "model.pt")
    assert model.step == 0 and facts.trained_steps == 2  # inference model: no optimiser
    assert facts.subjects == ("test subject",) and len(facts.consent_records) == 1
    card = (out / "card.md").read_text()
    assert facts.consent_records[0] in card and "scope `train`" in card
    assert main(_args(consented_clip, out, 4, test_signer)) == 0
    steps = [json.loads(line)["step"] for line in
             (out / "losses.jsonl").read_text().splitlines()]
    assert steps[-1] == 4 and load_model(out / "model.pt")[1].trained_steps == 4


def test_resuming_with_another_crop_size_is_refused(consented_clip: Path, test_signer: Path,
                                                    tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(_args(consented_clip, out, 1, test_signer)) == 0
    capsys.readouterr()
    assert main(_args(consented_clip, out, 2, test_signer, "--size", "128")) == 1
    one_line_error(capsys.readouterr().err, "other model settings", "crop 64")


def test_footage_without_consent_is_refused_before_reading(
        tmp_path: Path, test_signer: Path, capsys: pytest.CaptureFixture[str]) -> None:
    video = cut_video(SAMPLES / "driver.mp4", tmp_path / "no_consent.mp4", 10)
    assert main(_args(video, tmp_path / "run", 1, test_signer)) == 1
    one_line_error(capsys.readouterr().err, "no_consent.mp4")
    assert not (tmp_path / "run").exists()


def test_footage_without_a_face_is_one_line(tmp_path: Path, test_signer: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from streamgan.safety.consent import grant_file_consent

    video = cut_video(SAMPLES / "driver.mp4", tmp_path / "blank.mp4", 10, blank=range(10))
    grant_file_consent(video, test_signer.with_suffix(".key"), "test subject")
    assert main(_args(video, tmp_path / "run", 1, test_signer)) == 1
    one_line_error(capsys.readouterr().err, "no face found")


def test_bad_settings_are_one_line(consented_clip: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_args(consented_clip, tmp_path / "a", 1, None, "--size", "100")) == 1
    one_line_error(capsys.readouterr().err, "multiple of 8")
    assert main(_args(consented_clip, tmp_path / "b", 1, None, "--use-first", "0")) == 1
    one_line_error(capsys.readouterr().err, "--use-first")
    assert main(_args(tmp_path / "nowhere", tmp_path / "c", 1, None)) == 1
    one_line_error(capsys.readouterr().err, "no such video or folder")


@pytest.mark.slow
def test_two_process_ddp_step_keeps_replicas_identical(consented_clip: Path,
                                                       test_signer: Path,
                                                       tmp_path: Path) -> None:
    """torchrun with two gloo processes on loopback: both train, rank 0 saves, and the
    replicas' weights agree after the steps."""
    out = tmp_path / "ddp"
    ranks = torchrun_two(Path(__file__).with_name("ddp_worker.py"), tmp_path / "dumps",
                         str(consented_clip), str(out), str(test_signer), "2")
    assert ranks[0]["step"] == ranks[1]["step"] == 2
    assert ranks[0]["weights"] == ranks[1]["weights"]
    assert (out / "model.pt").is_file()
