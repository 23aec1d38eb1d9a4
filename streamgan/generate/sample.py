"""``streamgan generate``: clips from a trained video GAN, as marked and signed files.

Each clip is upscaled from the model's size (bicubic) so that players show it and
the watermark has room, watermarked in every frame and signed with a C2PA manifest
that labels it AI-generated. A preview sheet shows every clip at a glance; with
``layers`` the background (PNG), mask and foreground (videos) of each clip are
written beside it, so the two-stream split can be inspected.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import cv2
import numpy as np
import torch
from numpy.typing import NDArray

from streamgan.errors import InputError, OutputError
from streamgan.generate import checkpoint
from streamgan.generate.clips import square, to_tensor, to_uint8
from streamgan.generate.model import Sample, VideoGan
from streamgan.generate.preview import clip_grid
from streamgan.media import VideoWriter
from streamgan.media.image import read_image, write_image
from streamgan.media.yuv import rgb_to_yuv420, yuv420_to_rgb
from streamgan.safety.marking import OutputMark, signed_output

log = logging.getLogger(__name__)

Progress = Callable[[int, "int | None"], None]
BATCH = 16
"""Clips generated per forward pass."""


@dataclass(frozen=True)
class GenerateSettings:
    """What ``streamgan generate`` can be told."""

    out: Path
    count: int = 4
    model: Path | None = None
    """A checkpoint; None: the shipped model."""
    seed: int | None = None
    """None: a random seed (reported, so a run can be repeated)."""
    from_image: Path | None = None
    """Generate the future of this still (conditional models only)."""
    variation: float = 0.3
    """With ``from_image``: noise added to its code, so clips differ."""
    layers: bool = False
    out_size: int = 256
    fps: int = 8
    crf: int = 18
    device: str = "cpu"


@dataclass
class GenerateReport:
    clips: list[Path] = field(default_factory=list)
    layers: list[Path] = field(default_factory=list)
    preview: Path | None = None
    seed: int = 0
    model: Path | None = None
    watermarks: list[str] = field(default_factory=list)
    frames: int = 0
    """Frames written, over all clips."""


def prepare_folder(out: Path) -> None:
    """Create ``out`` if needed; fail now, in one line, if it cannot be written."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{out}: cannot create the folder ({e.strerror})") from e
    probe = out / f".streamgan-write-test-{secrets.token_hex(4)}"
    try:
        probe.touch()
        probe.unlink()
    except OSError as e:
        raise OutputError(f"{out}: not writable ({e.strerror})") from e


def latent_codes(model: VideoGan, count: int, seed: int, from_image: Path | None,
                 variation: float) -> torch.Tensor:
    """``count`` codes: normal noise, or the still's code plus ``variation`` noise."""
    rng = torch.Generator().manual_seed(seed)
    noise = torch.randn(count, model.options.z_dim, generator=rng)
    if from_image is None:
        return noise
    if not model.options.conditional:
        raise InputError("--from needs a model trained with --conditional; this one "
                         "generates without a starting image")
    still = square(read_image(from_image), model.options.size)
    code = model.encode(to_tensor(still[None, None])[:, :, 0]).cpu()
    return code + variation * noise


def generate(settings: GenerateSettings, progress: Progress | None = None) -> GenerateReport:
    """Write ``settings.count`` clips (and a preview) into ``settings.out``."""
    if settings.count < 1:
        raise InputError("the number of clips must be 1 or more")
    path = settings.model or checkpoint.shipped_model()
    model, _ = checkpoint.load(path, device=settings.device)
    prepare_folder(settings.out)
    seed = settings.seed if settings.seed is not None else secrets.randbelow(2**31)
    report = GenerateReport(seed=seed, model=path)
    z = latent_codes(model, settings.count, seed, settings.from_image, settings.variation)
    firsts: list[NDArray[np.uint8]] = []
    for start in range(0, settings.count, BATCH):
        sample = model.sample(z[start:start + BATCH])
        for i, layers in enumerate(_split(sample)):
            index = start + i
            stem = settings.out / f"clip-{index:03d}"
            report.clips.append(_write_clip(stem.with_suffix(".mp4"), layers.video,
                                            settings, report))
            report.frames += len(layers.video)
            if settings.layers:
                report.layers += _write_layers(stem, layers, settings, report)
            firsts.append(layers.video)
            if progress is not None:
                progress(index + 1, settings.count)
    report.preview = settings.out / "preview.png"
    _write_marked_image(report.preview, clip_grid(np.stack(firsts)))
    return report


@dataclass(frozen=True)
class ClipLayers:
    """One clip as uint8 arrays: video and foreground (T, H, W, 3), mask (T, H, W, 3)
    grey, background (H, W, 3)."""

    video: NDArray[np.uint8]
    foreground: NDArray[np.uint8]
    mask: NDArray[np.uint8]
    background: NDArray[np.uint8]


def _split(sample: Sample) -> Iterator[ClipLayers]:
    video, fg = to_uint8(sample.video), to_uint8(sample.foreground)
    mask = to_uint8(sample.mask * 2 - 1).repeat(3, axis=-1)
    background = to_uint8(sample.background[:, :, None])[:, 0]
    for i in range(len(video)):
        yield ClipLayers(video[i], fg[i], mask[i], background[i])


def _upscale(rgb: NDArray[np.uint8], side: int) -> NDArray[np.uint8]:
    return np.ascontiguousarray(cv2.resize(rgb, (side, side), interpolation=cv2.INTER_CUBIC))


def _write_clip(path: Path, frames: NDArray[np.uint8], settings: GenerateSettings,
                report: GenerateReport) -> Path:
    """Frames upscaled, watermarked, encoded, then signed into ``path``."""
    side = settings.out_size
    mark = OutputMark.new(None)
    embedder = mark.embedder(side, side)
    report.watermarks.append(mark.payload.hex)
    title = f"streamgan generate: {path.name} (seed {report.seed})"
    with signed_output(path, mark.claim(title=title)) as unsigned, \
            VideoWriter(unsigned, shown_as=path, width=side, height=side,
                        time_base=Fraction(1, settings.fps), rate=Fraction(settings.fps),
                        crf=settings.crf) as writer:
        for t, frame in enumerate(frames):
            yuv = rgb_to_yuv420(_upscale(frame, side))
            embedder.embed(yuv)
            writer.write(yuv, t)
    return path


def _write_layers(stem: Path, layers: ClipLayers, settings: GenerateSettings,
                  report: GenerateReport) -> list[Path]:
    background = stem.with_name(stem.name + ".background.png")
    _write_marked_image(background, _upscale(layers.background, settings.out_size))
    mask = _write_clip(stem.with_name(stem.name + ".mask.mp4"), layers.mask, settings, report)
    fg = _write_clip(stem.with_name(stem.name + ".foreground.mp4"), layers.foreground,
                     settings, report)
    return [background, mask, fg]


def _write_marked_image(path: Path, rgb: NDArray[np.uint8]) -> None:
    """A still output, watermarked like every frame streamgan writes."""
    h, w = rgb.shape[:2]
    rgb = np.ascontiguousarray(rgb[:h - h % 2, :w - w % 2])
    yuv = rgb_to_yuv420(rgb)
    OutputMark.new(None).embedder(rgb.shape[1], rgb.shape[0]).embed(yuv)
    write_image(path, yuv420_to_rgb(yuv))
