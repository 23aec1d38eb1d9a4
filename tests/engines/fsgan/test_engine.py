"""The fsgan engine: the warp's picture with only the face region refined, through
every path (engine, ``reenact``), and one-line errors for what it cannot use."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from streamgan.cli.main import main
from streamgan.engines import EngineSettings, Target, create_engine
from streamgan.engines.base import Drive
from streamgan.engines.fsgan.checkpoint import ModelFacts, save_model
from streamgan.engines.fsgan.crop import FaceCrop
from streamgan.engines.fsgan.engine import FsganEngine, FsganSettings
from streamgan.engines.warp.engine import WarpEngine, WarpSettings
from streamgan.errors import InputError
from streamgan.media import read_image
from streamgan.media.yuv import yuv420_to_rgb
from streamgan.tracking.facemesh import detect_still
from streamgan.tracking.landmarks import Landmarks
from tests.conftest import SAMPLE_TRUST, SAMPLES, fixed_watermark, one_line_error


@pytest.fixture(scope="module")
def target() -> Target:
    image = read_image(SAMPLES / "target.png")
    return Target(image, detect_still(image)[0])


def _moved(lm: Landmarks) -> Landmarks:
    """The target's landmarks with the jaw dropped and the head shifted a little."""
    moved = lm.copy()
    moved[:, 0] += 6
    moved[moved[:, 1] > lm[13, 1], 1] += 8
    return moved


def read_frames(path: Path) -> list[np.ndarray]:
    from streamgan.media import AudioPacket, VideoReader

    with VideoReader(path, audio=False) as reader:
        return [item.image for item in reader if not isinstance(item, AudioPacket)]


def _render(engine: WarpEngine | FsganEngine, target: Target) -> np.ndarray:
    engine.prepare(target)
    lm = target.landmarks
    return yuv420_to_rgb(engine.render(Drive(target.image, _moved(lm), lm)))


def test_an_untrained_model_gives_the_warp_back_and_only_the_face_changes(
        tmp_path: Path, target: Target) -> None:
    from streamgan.engines.fsgan.model import FsganModel
    from streamgan.engines.fsgan.options import PRESETS

    torch.manual_seed(0)
    model = FsganModel(PRESETS["tiny"], train=False)
    save_model(model, ModelFacts(), tmp_path / "plain.pt")
    warp = _render(WarpEngine(WarpSettings(mouth_fill=False)), target)
    plain = _render(FsganEngine(FsganSettings(model=tmp_path / "plain.pt")), target)
    assert np.abs(plain.astype(int) - warp).mean() < 1.0

    # A model that brightens its face (the same weights, but for the head's bias): the
    # face region changes, nothing outside the crop does, and the paste fades out
    # before the crop's edge (no square seam).
    _bright_model(tmp_path / "bright.pt", lift=0.5, seg=6.0, seed=0)  # seg: whole crop
    bright = _render(FsganEngine(FsganSettings(model=tmp_path / "bright.pt")), target)
    changed = np.abs(bright.astype(int) - warp).max(-1) > 3
    assert changed.sum() > 2000
    crop = FaceCrop.of(_moved(target.landmarks), 64, PRESETS["tiny"].face_fraction)
    inverse = cv2.invertAffineTransform(crop.matrix)
    corners = np.array([[0, 0], [64, 0], [0, 64], [64, 64]], np.float64)
    box = corners @ inverse[:, :2].T + inverse[:, 2]
    ys, xs = np.nonzero(changed)
    assert xs.min() >= box[:, 0].min() and xs.max() <= box[:, 0].max()
    assert ys.min() >= box[:, 1].min() and ys.max() <= box[:, 1].max()
    # Along the crop's edges the change has faded to nothing.
    for t in np.linspace(0, 1, 9):
        for a, b in ((0, 1), (1, 3), (3, 2), (2, 0)):
            x, y = np.clip(np.round(box[a] + t * (box[b] - box[a])).astype(int), 0,
                           (warp.shape[1] - 1, warp.shape[0] - 1))
            assert not changed[y, x]


def _bright_model(path: Path, lift: float = 0.4, seg: float = 4.0, seed: int = 1) -> Path:
    """An untrained tiny model (from ``seed``) that visibly brightens the face it is
    given: ``lift`` on its colour head's bias, ``seg`` on its blend mask's (so pasting
    and batching mistakes show)."""
    from streamgan.engines.fsgan.model import FsganModel
    from streamgan.engines.fsgan.options import PRESETS

    torch.manual_seed(seed)
    model = FsganModel(PRESETS["tiny"], train=False)
    with torch.no_grad():
        model.ema.head.bias[:3] = lift
        model.ema.seg_head[-1].bias.fill_(seg)
    save_model(model, ModelFacts(), path)
    return path


def _drives(target: Target) -> list[Drive]:
    """Five driver frames, each with another jaw drop and shift, one without a face."""
    lm = target.landmarks
    drives = []
    for k in range(5):
        moved = lm.copy()
        moved[:, 0] += 3 * k
        moved[moved[:, 1] > lm[13, 1], 1] += 2 * k
        drives.append(Drive(target.image, None if k == 2 else moved, lm))
    return drives


def test_a_batch_draws_what_frames_drawn_one_by_one_draw(tmp_path: Path,
                                                         target: Target) -> None:
    """``draw_batch`` (the file path on CUDA) gives each frame its own face, in order."""
    model = _bright_model(tmp_path / "bright.pt")
    single = FsganEngine(FsganSettings(model=model))
    batched = FsganEngine(FsganSettings(model=model, batch=4))
    assert (single.batch_size, batched.batch_size) == (1, 4)
    drives = _drives(target)
    one_by_one = []
    single.prepare(target)
    for drive in drives:
        one_by_one.append(single.draw(single.plan(drive)))
    batched.prepare(target)
    together = batched.draw_batch([batched.plan(d) for d in drives])
    warp = WarpEngine(WarpSettings(mouth_fill=False))
    warp.prepare(target)
    for k, (a, b, drive) in enumerate(zip(one_by_one, together, drives, strict=True)):
        assert np.abs(a.astype(int) - b).max() <= 1, k
        refined = np.abs(a.astype(int) - warp.render(drive)).max()
        assert (refined == 0) if drive.landmarks is None else (refined > 20), k
    # Each frame kept its own face: neighbours differ where the jaw moved.
    assert np.abs(together[0].astype(int) - together[1]).max() > 20


def test_the_compiled_network_captures_whole_and_pads_to_one_shape(tmp_path: Path,
                                                                   target: Target) -> None:
    """``compile`` (on by default on CUDA) runs the network as one graph; a short last
    batch is padded to the batch size, so the result is the uncompiled one."""
    model = _bright_model(tmp_path / "bright.pt")
    plain = FsganEngine(FsganSettings(model=model, batch=3))
    compiled = FsganEngine(FsganSettings(model=model, batch=3, compile=False))
    compiled.model.compile(backend="eager")  # dynamo's capture, without a C++ build
    assert compiled.model.compiled and not plain.model.compiled
    drives = _drives(target)[:2]
    for engine in (plain, compiled):
        engine.prepare(target)
    a = plain.draw_batch([plain.plan(d) for d in drives])
    b = compiled.draw_batch([compiled.plan(d) for d in drives])
    for x, y in zip(a, b, strict=True):
        assert np.abs(x.astype(int) - y).max() <= 1


def test_a_compile_that_fails_falls_back_to_the_plain_network(
        tmp_path: Path, target: Target, caplog: pytest.LogCaptureFixture) -> None:
    """The compile happens at the first frame (on CUDA by default); a compiler that
    fails there costs one warning, not the run."""
    def broken(graph: object, inputs: object) -> object:
        raise RuntimeError("no C compiler here")

    model = _bright_model(tmp_path / "bright.pt")
    plain = FsganEngine(FsganSettings(model=model))
    failing = FsganEngine(FsganSettings(model=model, compile=False))
    failing.model.compile(backend=broken)
    drive = _drives(target)[0]
    for engine in (plain, failing):
        engine.prepare(target)
    with caplog.at_level(logging.WARNING):
        picture = failing.draw(failing.plan(drive))
    assert "torch.compile failed" in caplog.text and not failing.model.compiled
    assert np.abs(picture.astype(int) - plain.draw(plain.plan(drive))).max() <= 1


def test_the_engine_needs_a_usable_model(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="needs --model"):
        create_engine("fsgan", EngineSettings())
    with pytest.raises(InputError, match="no such model file"):
        create_engine("fsgan", EngineSettings(model=tmp_path / "missing.pt"))
    if not torch.cuda.is_available():
        with pytest.raises(InputError, match="no CUDA device"):
            FsganEngine(FsganSettings(device="cuda", model=tmp_path / "x.pt"))


def test_a_model_of_someone_else_is_named(tiny_model: Path,
                                          caplog: pytest.LogCaptureFixture) -> None:
    from dataclasses import replace

    from streamgan.safety.consent import require_consent

    engine = FsganEngine(FsganSettings(model=tiny_model))
    assert engine.facts.subjects == ("test subject",)
    record = require_consent(SAMPLES / "target.png", "reenact", extra_trust=[SAMPLE_TRUST])
    with caplog.at_level(logging.WARNING):
        engine.check_target(replace(record, subject="test subject"))
    assert "learned from footage" not in caplog.text
    with caplog.at_level(logging.WARNING):
        engine.check_target(replace(record, subject="Someone Else"))
    assert "learned from footage of test subject; the target is Someone Else" in caplog.text


def test_reenact_with_the_fsgan_engine(tiny_model: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str],
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    fixed_watermark(monkeypatch)  # the two runs' files are compared frame for frame
    out, batched = tmp_path / "out.mp4", tmp_path / "batched.mp4"
    for path, batch in ((out, []), (batched, ["--batch", "3"])):
        assert main(["reenact", str(SAMPLES / "driver.mp4"), str(SAMPLES / "target.png"),
                     "-o", str(path), "--engine", "fsgan", "--model", str(tiny_model),
                     *batch, "--trust", str(SAMPLE_TRUST), "-q"]) == 0
    frames, again = read_frames(out), read_frames(batched)
    assert len(frames) == len(again) == len(read_frames(SAMPLES / "driver.mp4"))
    assert main(["verify", str(out)]) == 0
    # Drawn in batches of 3 the file is the same frame for frame; a frame out of order
    # would differ from its place by what the face moved between them.
    same = [np.abs(a.astype(int) - b).mean() for a, b in zip(frames, again, strict=True)]
    step = [np.abs(a.astype(int) - b).mean() for a, b in zip(frames[:-1], frames[1:], strict=True)]
    assert max(same) < 0.05 < 0.5 < np.median(step)
    capsys.readouterr()
    assert main(["reenact", str(SAMPLES / "driver.mp4"), str(SAMPLES / "target.png"),
                 "-o", str(tmp_path / "none.mp4"), "--engine", "fsgan",
                 "--trust", str(SAMPLE_TRUST)]) == 1
    one_line_error(capsys.readouterr().err, "needs --model")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    assert main(["reenact", str(SAMPLES / "driver.mp4"), str(SAMPLES / "target.png"),
                 "-o", str(tmp_path / "bad.mp4"), "--engine", "fsgan", "--model", str(bad),
                 "--trust", str(SAMPLE_TRUST)]) == 1
    one_line_error(capsys.readouterr().err, "bad.pt")
    assert not (tmp_path / "none.mp4").exists() and not (tmp_path / "bad.mp4").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_fp16_matches_the_cpu(tiny_model: Path, target: Target) -> None:
    cpu = _render(FsganEngine(FsganSettings(model=tiny_model)), target)
    gpu = _render(FsganEngine(FsganSettings(device="cuda", model=tiny_model)), target)
    assert np.abs(gpu.astype(int) - cpu).mean() < 1.0


def test_serve_prepares_fsgan_targets_for_each_peer(tiny_model: Path, target: Target) -> None:
    """``streamgan serve --engine fsgan --model``: every peer gets its own copy of the
    prepared engine, which renders the live path's frames."""
    from apps.webrtc.targets import load_catalog

    catalog = load_catalog([SAMPLES / "target.png"], [SAMPLE_TRUST], "fsgan",
                           EngineSettings(model=tiny_model))
    engine = catalog["target"].new_engine()
    assert isinstance(engine, FsganEngine)
    lm = target.landmarks
    picture = engine.render(Drive(target.image, _moved(lm), lm))
    assert picture.shape == (target.image.shape[0] * 3 // 2, target.image.shape[1])
    with pytest.raises(InputError, match="needs --model"):
        load_catalog([SAMPLES / "target.png"], [SAMPLE_TRUST], "fsgan")
