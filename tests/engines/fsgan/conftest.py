"""Self-reenactment pairs, a consented clip and a tiny trained model, shared by the
fsgan tests (all from the sample driver: a warp reproduces it, so nothing is learned
from it, but every path runs)."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamgan.engines.fsgan.data import SelfReenactmentSet, read_clip
from tests.conftest import SAMPLES, cut_video


@pytest.fixture(scope="session")
def sample_pairs() -> SelfReenactmentSet:
    """Every 8th frame of the sample driver (about 28), at the tiny preset's 64 px."""
    clip = read_clip(SAMPLES / "driver.mp4", every=8)
    return SelfReenactmentSet([clip], 64, 0.75, sources_per_clip=2)


@pytest.fixture(scope="session")
def consented_clip(tmp_path_factory: pytest.TempPathFactory, test_signer: Path) -> Path:
    """Two seconds of the sample driver, with a ``train`` consent from the test signer
    (pass ``test_signer`` as trust)."""
    from streamgan.safety.consent import grant_file_consent

    video = cut_video(SAMPLES / "driver.mp4", tmp_path_factory.mktemp("fsgan") / "clip.mp4",
                      50)
    grant_file_consent(video, test_signer.with_suffix(".key"), "test subject")
    return video


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, consented_clip: Path,
               test_signer: Path) -> Path:
    """A tiny model trained for a few steps through the real trainer."""
    from streamgan.engines.fsgan.options import PRESETS
    from streamgan.engines.fsgan.train import TrainSettings, train

    out = tmp_path_factory.mktemp("tiny-run")
    train(TrainSettings(videos=consented_clip, out=out, options=PRESETS["tiny"], steps=3,
                        batch=2, device="cpu", threads=2, sources_per_clip=2,
                        trust=(test_signer,)))
    return out / "model.pt"
