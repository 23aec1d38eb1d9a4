from __future__ import annotations

from pathlib import Path

import pytest
import torch

from streamgan.errors import InputError
from streamgan.generate import checkpoint
from streamgan.generate.model import VideoGan
from streamgan.generate.sample import latent_codes
from tests.generate.conftest import TINY


def trained_a_little(steps: int = 2) -> VideoGan:
    torch.manual_seed(1)
    model = VideoGan(TINY)
    for _ in range(steps):
        model.train_step(torch.rand(4, 3, TINY.frames, TINY.size, TINY.size) * 2 - 1)
    return model


@pytest.mark.parametrize("training", [True, False], ids=["training", "sampling"])
def test_round_trip_gives_identical_samples_for_a_seed(tmp_path: Path,
                                                       training: bool) -> None:
    model = trained_a_little()
    path = tmp_path / "m.pt"
    checkpoint.save(model, path, training=training, extra={"name": "x"})
    loaded, extra = checkpoint.load(path)
    assert extra == {"name": "x"} and loaded.step == model.step
    z = latent_codes(model, 3, seed=42, from_image=None, variation=0)
    assert torch.equal(z, latent_codes(loaded, 3, seed=42, from_image=None, variation=0))
    a, b = model.sample(z), loaded.sample(z)
    for x, y in ((a.video, b.video), (a.mask, b.mask), (a.background, b.background)):
        assert torch.equal(x, y)
    assert not torch.equal(a.video, model.sample(z + 1).video)


def test_resuming_restores_the_training_state(tmp_path: Path) -> None:
    model = trained_a_little(3)
    checkpoint.save(model, tmp_path / "last.pt")
    resumed, _ = checkpoint.load(tmp_path / "last.pt", train=True)
    assert resumed.discriminator is not None and model.discriminator is not None
    for a, b in zip(model.discriminator.state_dict().values(),
                    resumed.discriminator.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert resumed.opt_d is not None and model.opt_d is not None
    assert resumed.opt_d.state_dict()["state"].keys() == model.opt_d.state_dict()["state"].keys()
    assert resumed.step == 3


def test_a_sampling_checkpoint_is_smaller(tmp_path: Path) -> None:
    model = trained_a_little(1)
    checkpoint.save(model, tmp_path / "full.pt")
    checkpoint.save(model, tmp_path / "small.pt", training=False)
    assert (tmp_path / "small.pt").stat().st_size < (tmp_path / "full.pt").stat().st_size / 2


@pytest.mark.parametrize("content, needle", [
    (b"", "not a readable checkpoint"),
    (b"PK\x03\x04 not really a zip", "not a readable checkpoint"),
    (b"\x80\x02K\x01.", "not a readable checkpoint"),
], ids=["empty", "truncated-zip", "bare-pickle"])
def test_bad_files_are_input_errors(tmp_path: Path, content: bytes, needle: str) -> None:
    path = tmp_path / "bad.pt"
    path.write_bytes(content)
    with pytest.raises(InputError, match=needle):
        checkpoint.load(path)


def test_a_checkpoint_of_something_else_is_refused(tmp_path: Path) -> None:
    torch.save([torch.zeros(2)], tmp_path / "l.pt")
    with pytest.raises(InputError, match="not a streamgan video GAN"):
        checkpoint.load(tmp_path / "l.pt")
    torch.save({"format": "other", "weights": torch.zeros(2)}, tmp_path / "o.pt")
    with pytest.raises(InputError, match="not a streamgan video GAN"):
        checkpoint.load(tmp_path / "o.pt")
    torch.save({"format": checkpoint.FORMAT, "version": 1, "options": TINY.to_dict(),
                "step": 0, "ema": {"nonsense": torch.zeros(1)}}, tmp_path / "d.pt")
    with pytest.raises(InputError, match="damaged checkpoint"):
        checkpoint.load(tmp_path / "d.pt")


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such model file"):
        checkpoint.load(tmp_path / "absent.pt")
