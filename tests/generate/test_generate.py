from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
import pytest

from streamgan.cli.main import main
from streamgan.generate.options import PRESETS
from streamgan.media import VideoReader, probe
from streamgan.media.image import read_image, write_image
from streamgan.safety.provenance import read_manifest
from streamgan.safety.watermark import WatermarkKey, detect_file
from tests.conftest import one_line_error
from tests.generate.conftest import TINY, save_tiny


def frames_of(path: Path) -> np.ndarray:
    with VideoReader(path, audio=False) as reader:
        return np.stack([f.image for f in reader])  # type: ignore[union-attr]


def test_generate_writes_the_requested_playable_clips(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "clips"
    assert main(["generate", "--model", str(tiny_model), "-n", "3", "-o", str(out),
                 "--seed", "5", "--size", "96", "-q"]) == 0
    clips = sorted(out.glob("clip-*.mp4"))
    assert [c.name for c in clips] == ["clip-000.mp4", "clip-001.mp4", "clip-002.mp4"]
    for clip in clips:
        info = probe(clip)
        assert (info.width, info.height) == (96, 96)
        assert len(frames_of(clip)) == TINY.frames
    preview = read_image(out / "preview.png")
    assert preview.shape[0] > preview.shape[1] / 4  # three rows of frames
    assert not list(out.glob(".*")), "temporary files left behind"


def test_same_seed_same_clips_other_seed_other_clips(tmp_path: Path) -> None:
    """With the shipped (trained) model, whose clips differ visibly from seed to seed."""
    runs = {}
    for name, seed in (("a", "1"), ("b", "1"), ("c", "2")):
        assert main(["generate", "-n", "1", "-o",
                     str(tmp_path / name), "--seed", seed, "--size", "64", "-q"]) == 0
        runs[name] = frames_of(tmp_path / name / "clip-000.mp4").astype(int)
    # The watermark payload differs per file, and its amplitude follows the texture (up
    # to 7 levels), so same-seed files differ by the marks and their encoding only.
    same = np.abs(runs["a"] - runs["b"]).mean()
    other = np.abs(runs["a"] - runs["c"]).mean()
    assert same < 4.0
    assert other > 8.0 and other > 4 * same


def test_every_clip_is_watermarked_and_labelled_ai_generated(tiny_model: Path,
                                                              tmp_path: Path) -> None:
    out = tmp_path / "clips"
    assert main(["generate", "--model", str(tiny_model), "-n", "1", "-o", str(out),
                 "--seed", "3", "-q"]) == 0
    clip = out / "clip-000.mp4"
    found = detect_file(clip, WatermarkKey.load_or_create())
    manifest = read_manifest(clip)
    assert found.present and manifest.present
    assert manifest.watermark_payload == found.payload
    assert manifest.digital_source_type is not None
    assert manifest.digital_source_type.endswith("trainedAlgorithmicMedia")


def test_layers_show_the_two_stream_split(tiny_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "clips"
    assert main(["generate", "--model", str(tiny_model), "-n", "2", "-o", str(out),
                 "--seed", "3", "--layers", "--size", "64", "-q"]) == 0
    for i in range(2):
        stem = out / f"clip-{i:03d}"
        background = read_image(stem.with_name(stem.name + ".background.png"))
        mask = frames_of(stem.with_name(stem.name + ".mask.mp4")).astype(float)
        fg = frames_of(stem.with_name(stem.name + ".foreground.mp4")).astype(float)
        video = frames_of(stem.with_suffix(".mp4")).astype(float)
        # The clip is the composite of its layers (up to compression and the mark).
        m = mask[..., :1] / 255.0
        composed = m * fg + (1 - m) * background[None].astype(float)
        assert np.abs(composed - video).mean() < 6.0


def test_from_image_needs_a_conditional_model(tiny_model: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    still = tmp_path / "still.png"
    write_image(still, np.full((32, 32, 3), 128, np.uint8))
    assert main(["generate", "--model", str(tiny_model), "-o", str(tmp_path / "o"),
                 "--from", str(still)]) == 1
    one_line_error(capsys.readouterr().err, "--conditional")


def test_from_image_with_a_conditional_model(tmp_path: Path) -> None:
    model = save_tiny(tmp_path / "cond.pt", TINY.but(conditional=True))
    still = tmp_path / "still.png"
    write_image(still, np.full((40, 30, 3), 90, np.uint8))
    assert main(["generate", "--model", str(model), "-n", "2", "-o", str(tmp_path / "o"),
                 "--from", str(still), "--size", "64", "-q"]) == 0
    assert len(list((tmp_path / "o").glob("clip-*.mp4"))) == 2


def test_the_shipped_model_is_used_by_default(tmp_path: Path) -> None:
    out = tmp_path / "clips"
    assert main(["generate", "-n", "1", "-o", str(out), "--seed", "0", "-q"]) == 0
    assert len(frames_of(out / "clip-000.mp4")) == PRESETS["digits"].frames


@pytest.mark.parametrize("args, needle", [
    (["--model", "{tmp}/absent.pt"], "no such model file"),
    (["--model", "{tmp}/corrupt.pt"], "not a readable checkpoint"),
    (["-n", "0"], "must be between 1 and 1000"),
    (["--from", "{tmp}/absent.png"], "no such image"),
    (["--size", "65"], "must be even"),
], ids=["missing-model", "corrupt-model", "n<1", "missing-still", "odd-size"])
def test_bad_arguments_are_one_line_errors(tiny_model: Path, tmp_path: Path, args: list[str],
                                           needle: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "corrupt.pt").write_bytes(os.urandom(300))
    args = [a.format(tmp=tmp_path) for a in args]
    if "--model" not in args:
        args += ["--model", str(tiny_model)]
    try:
        code = main(["generate", "-o", str(tmp_path / "out"), *args])
    except SystemExit as usage:  # argparse's own checks exit 2
        code = int(usage.code or 0)
    assert code in (1, 2)
    one_line_error(capsys.readouterr().err, needle)
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_an_unwritable_folder_is_a_one_line_error(tiny_model: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["generate", "--model", str(tiny_model), "-o", str(blocker / "sub")]) == 1
    one_line_error(capsys.readouterr().err, "cannot create the folder")
    assert main(["generate", "--model", str(tiny_model), "-o", str(blocker)]) == 1
    one_line_error(capsys.readouterr().err, "not a folder")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                    reason="root writes through file permissions")
def test_a_read_only_folder_is_a_one_line_error(tiny_model: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        assert main(["generate", "--model", str(tiny_model), "-o", str(folder)]) == 1
        one_line_error(capsys.readouterr().err, "not writable")
    finally:
        folder.chmod(stat.S_IRWXU)
