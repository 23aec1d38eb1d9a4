"""The claim that makes fsgan worth its training: a personal model trained for a few
minutes on footage of a person beats the warp on frames of that footage it never saw
(held-out self-reenactment, where the real frame is the right answer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from streamgan.engines.fsgan.data import read_clip
from streamgan.engines.fsgan.engine import FsganEngine, FsganSettings
from streamgan.engines.fsgan.evaluate import (
    face_crops,
    held_out,
    part_masks,
    region_psnr,
    render_self,
)
from streamgan.engines.fsgan.train import TrainSettings, train
from streamgan.engines.warp.engine import WarpEngine, WarpSettings
from streamgan.tracking import landmarks as L
from tests.conftest import sample_script

USE_FIRST = 0.7


@pytest.mark.slow
def test_a_personal_model_beats_the_warp_on_held_out_frames(tmp_path: Path,
                                                            test_signer: Path) -> None:
    from streamgan.safety.consent import grant_file_consent

    footage = tmp_path / "footage"
    sample_script("make_fsgan_footage").generate(footage, ("person",), seconds=12.0)
    video = footage / "person.mp4"
    grant_file_consent(video, test_signer.with_suffix(".key"), "test subject")
    model = train(TrainSettings(videos=video, out=tmp_path / "run", steps=300, batch=8,
                                use_first=USE_FIRST, device="cpu", threads=2,
                                trust=(test_signer,)))
    assert model.step == 300

    clip = read_clip(video)
    split = held_out(clip, USE_FIRST)
    assert split.still >= USE_FIRST * len(clip.frames)  # never trained on
    scores = {}
    for name, engine in (("warp", WarpEngine(WarpSettings(mouth_fill=False))),
                         ("fsgan", FsganEngine(FsganSettings(model=tmp_path / "run" /
                                                             "model.pt")))):
        outs, reals = face_crops(list(render_self(engine, clip, split)), clip, split)
        scores[name] = {part: region_psnr(outs, reals, part_masks(clip, split, rings))
                        for part, rings in (("face", (L.FACE_OVAL,)),
                                            ("mouth", (L.INNER_LIP_RING,)))}
    gain = {part: scores["fsgan"][part] - scores["warp"][part] for part in ("face", "mouth")}
    # Measured on the CI's kind of machine (300 steps, 3.5 min for the whole test):
    # face 22.4 dB against the warp's 20.5 (+1.9), mouth 19.0 against 13.7 (+5.3).
    # A longer run gains more (README: +2.6 dB on the face after 800 steps).
    assert gain["face"] > 1.2, scores
    assert gain["mouth"] > 3.5, scores
    assert np.isfinite(list(scores["fsgan"].values())).all()
