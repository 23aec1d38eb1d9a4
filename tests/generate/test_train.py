from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import pytest
import torch

from streamgan.cli.main import main
from streamgan.generate import checkpoint
from tests.conftest import one_line_error, torchrun_two

REPO = Path(__file__).resolve().parents[2]


def train_args(videos: Path, out: Path, steps: int, *extra: str) -> list[str]:
    return ["train", "vgan", "--videos", str(videos), "-o", str(out), "--preset", "tiny",
            "--steps", str(steps), "--batch", "4", "--save-every", "2", "-q", *extra]


def test_train_writes_checkpoints_card_and_preview_then_resumes(
        digit_videos: Path, tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(train_args(digit_videos, out, 2)) == 0
    for name in ("last.pt", "model.pt", "card.md", "preview.png", "losses.jsonl"):
        assert (out / name).is_file(), name
    card = (out / "card.md").read_text()
    assert "Steps: 2" in card and "3 videos" not in card and "- videos: 3" in card
    first, _ = checkpoint.load(out / "model.pt")
    assert first.step == 2
    assert main(train_args(digit_videos, out, 3)) == 0
    resumed, _ = checkpoint.load(out / "last.pt", train=True)
    assert resumed.step == 3
    assert "Steps: 3" in (out / "card.md").read_text()


def test_resuming_with_other_settings_is_refused(digit_videos: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(train_args(digit_videos, out, 1)) == 0
    assert main(train_args(digit_videos, out, 2, "--width", "8")) == 1
    one_line_error(capsys.readouterr().err, "other network settings")


def test_videos_too_short_for_a_clip_are_an_error(digit_videos: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    assert main(train_args(digit_videos, tmp_path / "o", 1, "--frames", "16",
                           "--size", "16")) == 1
    one_line_error(capsys.readouterr().err, "no video has the 16 frames")
    assert main(train_args(tmp_path / "none", tmp_path / "o", 1)) == 1
    one_line_error(capsys.readouterr().err, "not a directory of videos")


def test_quality_section_survives_retraining(digit_videos: Path, tmp_path: Path) -> None:
    from streamgan.train.card import set_quality

    out = tmp_path / "run"
    assert main(train_args(digit_videos, out, 1)) == 0
    set_quality(out / "card.md", "| figure | 1.0 |")
    assert main(train_args(digit_videos, out, 2)) == 0
    assert "| figure | 1.0 |" in (out / "card.md").read_text()


@pytest.mark.slow
def test_two_process_ddp_step_on_cpu_keeps_replicas_identical(digit_videos: Path,
                                                              tmp_path: Path) -> None:
    """torchrun with two gloo processes on loopback: both train, rank 0 saves, and the
    replicas' generator and discriminator weights agree after the steps."""
    out = tmp_path / "ddp"
    r0, r1 = torchrun_two(Path(__file__).with_name("ddp_worker.py"), tmp_path / "dumps",
                          str(digit_videos), str(out), "2")
    ranks = {"rank0.json": r0, "rank1.json": r1}
    assert ranks["rank0.json"]["step"] == ranks["rank1.json"]["step"] == 2
    assert ranks["rank0.json"]["weights"] == ranks["rank1.json"]["weights"]
    assert ranks["rank0.json"]["batch_seen"] != ranks["rank1.json"]["batch_seen"]
    assert checkpoint.load(out / "model.pt")[0].step == 2
    assert "2 process(es)" in (out / "card.md").read_text()


def digest(tensors: Iterable[torch.Tensor]) -> str:
    h = hashlib.sha256()
    for t in tensors:
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()
