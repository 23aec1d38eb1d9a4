"""``streamgan train translate``: checkpoints, card and preview, resuming, the two kinds
of data, DDP, and the model it writes is one ``translate`` loads."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from streamgan.cli.main import main
from streamgan.train.checkpoint import load_file
from streamgan.translate.formats import load_generator
from tests.conftest import one_line_error, torchrun_two

REPO = Path(__file__).resolve().parents[2]


def train_args(data: list[str], out: Path, steps: int, *extra: str) -> list[str]:
    return ["train", "translate", *data, "-o", str(out), "--size", "32", "--width", "4",
            "--ndf", "8", "--steps", str(steps), "--batch", "2", "--save-every", "2",
            "--threads", "1", "-q", *extra]


def test_pix2pix_run_writes_model_card_preview_then_resumes(paired_folder: Path,
                                                            tmp_path: Path) -> None:
    out = tmp_path / "run"
    assert main(train_args(["--paired", str(paired_folder)], out, 2,
                           "--work-side", "320")) == 0
    for name in ("last.pt", "model.pt", "card.md", "preview.png", "losses.jsonl"):
        assert (out / name).is_file(), name
    card = (out / "card.md").read_text()
    assert "pix2pix" in card and "Steps: 2" in card and "Pictures: 6" in card
    loaded = load_generator(out / "model.pt")
    assert loaded.spec.kind == "fast" and loaded.source == "streamgan"
    assert loaded.extra["work_side"] == 320 and loaded.extra["trained_steps"] == 2
    preview = np.asarray(Image.open(out / "preview.png"))
    assert preview.shape == (64, 128, 3)  # inputs over outputs, 4 examples of 32x32
    assert main(train_args(["--paired", str(paired_folder)], out, 3)) == 0
    assert int(load_file(out / "last.pt")["step"]) == 3
    assert "Steps: 3" in (out / "card.md").read_text()
    steps = [json.loads(line)["step"] for line in (out / "losses.jsonl").read_text().splitlines()]
    assert steps == [2, 3]


def test_cyclegan_trains_on_two_unpaired_folders(paired_folder: Path, tmp_path: Path) -> None:
    out = tmp_path / "cycle"
    assert main(train_args(["--unpaired", str(paired_folder / "A"), str(paired_folder / "B")],
                           out, 2, "--generator", "resnet_6blocks", "--ngf", "4")) == 0
    loaded = load_generator(out / "model.pt")
    assert loaded.spec.kind == "resnet" and loaded.spec.options["n_blocks"] == 6
    assert "CycleGAN" in (out / "card.md").read_text()
    state = load_file(out / "last.pt")
    assert set(state["nets"]) == {"G_A", "G_B", "D_A", "D_B"}


def test_side_by_side_pairs_are_split(tmp_path: Path) -> None:
    folder = tmp_path / "ab"
    folder.mkdir()
    left = np.zeros((40, 40, 3), np.uint8)
    Image.fromarray(np.concatenate([left, left + 200], 1)).save(folder / "0.png")
    from streamgan.translate.data import PairedSet

    data = PairedSet(folder, 32)
    a, b = data.batch(np.random.default_rng(0), 2)
    assert a.shape == b.shape == (2, 3, 32, 32)
    assert float(a.max()) == -1.0 and float(b.min()) > 0.5


def test_resuming_with_other_settings_and_bad_data_are_one_line_errors(
        paired_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "run"
    assert main(train_args(["--paired", str(paired_folder)], out, 1)) == 0
    capsys.readouterr()
    assert main(train_args(["--paired", str(paired_folder)], out, 2, "--width", "8")) == 1
    one_line_error(capsys.readouterr().err, "other model settings")
    assert main(train_args(["--paired", str(tmp_path / "none")], tmp_path / "o", 1)) == 1
    one_line_error(capsys.readouterr().err, "not a folder")
    assert main(train_args(["--paired", str(paired_folder)], tmp_path / "o2", 1,
                           "--generator", "unet_256")) == 1
    one_line_error(capsys.readouterr().err, "multiple of 256")


@pytest.mark.slow
def test_two_process_ddp_step_keeps_replicas_identical(paired_folder: Path,
                                                       tmp_path: Path) -> None:
    """torchrun with two gloo processes on loopback: both train pix2pix, rank 0 saves,
    and the replicas' generator and discriminator weights agree after the steps."""
    out = tmp_path / "ddp"
    ranks = torchrun_two(Path(__file__).with_name("ddp_worker.py"), tmp_path / "dumps",
                         str(paired_folder), str(out), "2")
    assert ranks[0]["step"] == ranks[1]["step"] == 2
    assert ranks[0]["weights"] == ranks[1]["weights"]
    assert ranks[0]["batches"] != ranks[1]["batches"]  # each rank its own data
    assert "2 process(es)" in (out / "card.md").read_text()
    assert load_generator(out / "model.pt").extra["trained_steps"] == 2


def test_cuda_training_step_when_a_gpu_is_here(paired_folder: Path, tmp_path: Path) -> None:
    if not torch.cuda.is_available():
        pytest.skip("needs a CUDA GPU")
    out = tmp_path / "gpu"
    assert main(train_args(["--paired", str(paired_folder)], out, 2, "--device", "cuda")) == 0
    assert "CUDA" in (out / "card.md").read_text()
