"""``streamgan translate``: a video in, the same video translated by a model out.

Decoding (the reader's thread), the model (its own thread, on batches of frames),
temporal smoothing and the watermark (this thread) and encoding (the writer's
thread) overlap. Timestamps and audio pass through as in
``reenact``. Every frame is watermarked; the file is signed with a C2PA manifest
that records it as an edit (``c2pa.edited``) of the input, with the model named.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from streamgan.errors import InputError
from streamgan.media import AudioPacket, VideoFrame, VideoInfo, VideoReader, VideoWriter
from streamgan.pipeline.stage import frame_batches, threaded_map
from streamgan.pipeline.stats import JobReport
from streamgan.safety.marking import OutputMark, signed_output
from streamgan.safety.provenance import COMPOSITE_ALGORITHMIC_MEDIA, EDITED
from streamgan.translate.engine import EngineOptions, Translator
from streamgan.translate.formats import LoadedGenerator
from streamgan.translate.registry import resolve_model
from streamgan.translate.session import TranslateSession, Worked

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class TranslateSettings:
    """Everything ``streamgan translate`` can be told."""

    model: str | None = None
    """A shipped model's name, a checkpoint file; None: the default shipped model."""
    temporal: bool = True
    region: str = "all"
    size: int | None = None
    """Long side the network sees; None: the model's working size or the frame's."""
    device: str = "cpu"
    batch: int = 0
    """Frames per forward pass; 0: 8 on CUDA, 1 on the CPU (batching buys a CPU
    nothing but latency)."""
    crf: int = 20
    preset: str = "veryfast"
    audio: bool = True


@dataclass
class TranslateReport(JobReport):
    """What a translate run did."""

    model: str = ""


def _check_video(info: VideoInfo) -> None:
    if info.codec in ("png", "mjpeg", "bmp", "webp", "tiff", "gif") and (info.frame_count
                                                                         or 0) <= 1:
        raise InputError(f"{info.path}: is a still image; translate takes a video")
    if info.width < 2 or info.height < 2:
        raise InputError(f"{info.path}: {info.width}x{info.height} is too small to encode")


Batch = tuple[list[VideoFrame], list[Worked]]


def _run_model(session: TranslateSession,
               item: list[VideoFrame] | AudioPacket) -> Batch | AudioPacket:
    """The model stage (its own thread): a batch's outputs, or audio passed through."""
    if isinstance(item, AudioPacket):
        return item
    return item, session.run_model([f.image for f in item])


def translate(source: Path, output: Path, settings: TranslateSettings | None = None,
              progress: Progress | None = None,
              model: LoadedGenerator | None = None) -> TranslateReport:
    """Translate every frame of ``source`` with the model; write ``output``.

    ``model`` is ``settings.model`` already loaded (a batch worker loads it once for
    many videos); None loads it here.
    """
    settings = settings or TranslateSettings()
    report = TranslateReport(output=output)
    started = time.perf_counter()
    times = report.times
    # Opening the input reads its first frame: a missing or broken file, or a still,
    # fails here in one line, before the model is loaded.
    with times.stage("prepare"):
        reader = VideoReader(source, audio=settings.audio)
    with reader:
        with times.stage("prepare"):
            info = reader.info
            _check_video(info)
            loaded = model if model is not None else resolve_model(settings.model)
            translator = Translator(loaded, EngineOptions(device=settings.device,
                                                          size=settings.size))
        report.model = loaded.name
        mark = OutputMark.new(None)
        report.watermark = mark.payload.hex
        batch = settings.batch or (8 if translator.cuda else 1)
        parameters = {"model": loaded.name, "model_format": loaded.source,
                      "model_sha256": loaded.sha256, "region": settings.region,
                      "temporal": settings.temporal}
        claim = mark.claim(action=EDITED, title=f"streamgan translate: {output.name}")
        claim = claim.but(parent=source, parameters=parameters,
                          source_type=(COMPOSITE_ALGORITHMIC_MEDIA
                                       if settings.region != "all" else None))
        width, height = info.width - info.width % 2, info.height - info.height % 2
        session = TranslateSession(translator, settings.temporal, settings.region,
                                   [mark.embedder(width, height).embed], times)
        try:
            with signed_output(output, claim) as unsigned, \
                    VideoWriter(unsigned, shown_as=output, width=width, height=height,
                                time_base=info.time_base, rate=info.average_rate, crf=settings.crf,
                                preset=settings.preset, audio_from=reader.audio_stream
                                ) as writer, \
                    threaded_map(frame_batches(reader, batch), partial(_run_model, session),
                                 "streamgan-translate-model") as translated:
                for entry in translated:
                    if isinstance(entry, AudioPacket):
                        writer.write_audio(entry)
                        continue
                    for frame, result in zip(*entry, strict=True):
                        picture = session.mark(session.finish(frame.image, result))
                        with times.stage("encode (queue)"):
                            writer.write(picture, frame.pts)
                    if progress is not None:
                        progress(session.frames, info.frame_count)
        finally:
            session.close()
        report.warnings.extend(reader.warnings)
        report.frames_lost = reader.frames_lost
    report.frames = session.frames
    report.seconds = time.perf_counter() - started
    return report
