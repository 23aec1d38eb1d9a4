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


def test_pairs_per_video_caps_the_pairs_a_video_gives(consented_clip: Path,
                                                      test_signer: Path,
                                                      tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(_args(consented_clip, out, 1, test_signer, "--pairs-per-video", "5")) == 0
    assert "Videos: 1 (all frames), 5 self-reenactment pairs" in (out / "card.md").read_text()


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


def _folder(tmp_path: Path, *videos: Path) -> Path:
    """``videos`` (with their consent sidecars) copied into one folder, in this order."""
    import shutil

    folder = tmp_path / "videos"
    folder.mkdir()
    for k, video in enumerate(videos):
        name = f"{k}_{video.name}"
        shutil.copy(video, folder / name)
        shutil.copy(video.with_name(video.name + ".consent.json"),
                    folder / f"{name}.consent.json")
    return folder


@pytest.mark.slow
def test_two_process_ddp_step_keeps_replicas_identical(consented_clip: Path,
                                                       test_signer: Path,
                                                       tmp_path: Path) -> None:
    """torchrun with two gloo processes on loopback, on a folder of two videos: each
    process renders its own video's pairs (the card counts both once), both train, rank
    0 saves, and the replicas' weights agree after the steps."""
    from streamgan.engines.fsgan.data import read_clip

    out = tmp_path / "ddp"
    folder = _folder(tmp_path, consented_clip, consented_clip)
    ranks = torchrun_two(Path(__file__).with_name("ddp_worker.py"), tmp_path / "dumps",
                         str(folder), str(out), str(test_signer), "2")
    assert ranks[0]["step"] == ranks[1]["step"] == 2
    assert ranks[0]["weights"] == ranks[1]["weights"]
    assert (out / "model.pt").is_file()
    # Every frame with a face drives one pair: each rank rendered one video, not both
    # (which would count four videos' pairs).
    one_video = len(read_clip(consented_clip, 640).tracked)
    assert f"Videos: 2 (all frames), {2 * one_video} self-reenactment pairs" in \
        (out / "card.md").read_text()


@pytest.mark.slow
def test_a_video_that_fails_on_one_rank_stops_both(consented_clip: Path, test_signer: Path,
                                                   tmp_path: Path) -> None:
    """Rank 1's video has no face: rank 1 fails while preparing, and rank 0, whose video
    is fine, stops with the same one-line error instead of waiting for it in training."""
    from streamgan.safety.consent import grant_file_consent

    blank = cut_video(SAMPLES / "driver.mp4", tmp_path / "blank.mp4", 10, blank=range(10))
    grant_file_consent(blank, test_signer.with_suffix(".key"), "test subject")
    folder = _folder(tmp_path, consented_clip, blank)
    ranks = torchrun_two(Path(__file__).with_name("ddp_worker.py"), tmp_path / "dumps",
                         str(folder), str(tmp_path / "ddp"), str(test_signer), "2", ok=False)
    assert ranks[0] == ranks[1]
    assert "1_blank.mp4: no face found" in ranks[0]["error"]
