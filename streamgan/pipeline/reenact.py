"""``streamgan reenact``: a driver video and a target still in, a video file out.

The target must carry a valid consent tag for ``reenact``; every output frame is
watermarked and the finished file signed with a C2PA manifest. Decoding, tracking,
rendering (this thread) and encoding each have a thread and overlap.
The driver's timestamps are kept frame for frame and its audio packets
pass through in demux order, so picture and sound stay in sync.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from streamgan.engines import EngineSettings, Plan, create_engine
from streamgan.errors import NoFaceError
from streamgan.media import AudioPacket, VideoFrame, VideoReader, VideoWriter, probe
from streamgan.media.image import ImageSource
from streamgan.pipeline.session import ReenactSession
from streamgan.pipeline.stage import frame_batches, threaded_map
from streamgan.pipeline.stats import JobReport
from streamgan.pipeline.target import load_consented_target
from streamgan.safety.marking import OutputMark, signed_output
from streamgan.tracking.landmarks import Landmarks
from streamgan.tracking.tracker import FaceTracker, TrackerSettings

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]
"""Called with (frames done, frames expected or None) after each frame."""


@dataclass(frozen=True)
class ReenactSettings:
    """Everything ``streamgan reenact`` can be told; defaults suit most videos."""

    engine: str = "warp"
    device: str = "cpu"
    model: Path | None = None
    """The learned engine's checkpoint (``--engine fsgan``)."""
    batch: int = 0
    """Frames the learned engine draws together; 0: its choice (8 on CUDA, 1 on the CPU)."""
    crf: int = 20
    preset: str = "veryfast"
    face_index: int = 0
    """Which driver face: 0 the largest."""
    target_face_index: int = 0
    ref_frame: int | None = None
    """Driver frame used as the neutral reference; None: the first with a face."""
    track_side: int = 640
    """Driver frames are tracked (and the mouth sampled) at most this large."""
    max_target_side: int = 1920
    audio: bool = True
    trust: tuple[Path, ...] = ()
    """Extra trusted consent signers, besides the config directory and STREAMGAN_TRUST."""


@dataclass
class ReenactReport(JobReport):
    """What a reenact run did."""

    consent_record: str = ""
    frames_without_face: int = 0


def find_reference(driver: Path, settings: ReenactSettings) -> Landmarks:
    """Landmarks of driver frame ``settings.ref_frame``, tracked as the main pass will."""
    assert settings.ref_frame is not None
    tracker_settings = TrackerSettings(face_index=settings.face_index)
    with VideoReader(driver, max_side=settings.track_side, audio=False) as reader, \
            FaceTracker(tracker_settings) as tracker:
        for item in reader:
            if isinstance(item, AudioPacket):
                continue
            track = tracker.track(item.image, item.time)
            if item.index == settings.ref_frame:
                if not track.detected or track.landmarks is None:
                    raise NoFaceError(f"{driver}: no face in reference frame {settings.ref_frame}")
                return track.landmarks
    raise NoFaceError(
        f"{driver}: --ref-frame {settings.ref_frame} is past the end of the video "
        f"({reader.frames_read} frames)"
    )


def _track(session: ReenactSession,
           item: VideoFrame | AudioPacket) -> tuple[VideoFrame, Plan] | AudioPacket:
    """The tracking stage: audio passes through, frames get their track and the
    engine's plan (its motion and geometry), so that only drawing is left."""
    if isinstance(item, AudioPacket):
        return item
    track = session.track(item.image, item.time)
    return item, session.plan(item.image, track, item.time)


def reenact(driver: Path, target_photo: ImageSource, output: Path,
            settings: ReenactSettings | None = None,
            progress: Progress | None = None) -> ReenactReport:
    """Animate the face in ``target_photo`` with the motion of ``driver``; write ``output``.

    The target is read once (or given already read, as an :class:`ImageFile`): the
    pixels its consent is checked on are the pixels animated.
    """
    settings = settings or ReenactSettings()
    report = ReenactReport(output=output)
    started = time.perf_counter()
    times = report.times
    with times.stage("prepare"):
        probe(driver)  # a bad driver fails now, before the target's face work
        checked = load_consented_target(target_photo, "reenact",
                                        face_index=settings.target_face_index,
                                        max_side=settings.max_target_side, trust=settings.trust)
        target, consent = checked.target, checked.consent
        mark = OutputMark.new(consent)
        report.watermark, report.consent_record = mark.payload.hex, consent.record_id
        engine = create_engine(settings.engine, EngineSettings(
            device=settings.device, model=settings.model, batch=settings.batch))
        engine.check_target(consent)
        engine.prepare(target)
        reference = find_reference(driver, settings) if settings.ref_frame is not None else None
    width, height = target.size
    with FaceTracker(TrackerSettings(face_index=settings.face_index)) as tracker, \
            VideoReader(driver, max_side=settings.track_side, audio=settings.audio) as reader, \
            signed_output(output, mark.claim()) as unsigned:
        session = ReenactSession(engine, tracker, reference=reference, times=times,
                                 processors=[mark.embedder(width, height).embed])
        info = reader.info
        with VideoWriter(unsigned, shown_as=output, width=width, height=height,
                         time_base=info.time_base, rate=info.average_rate, crf=settings.crf,
                         preset=settings.preset,
                         audio_from=reader.audio_stream) as writer, \
                threaded_map(reader, partial(_track, session), "streamgan-tracker") as tracked:
            for entry in frame_batches(tracked, engine.batch_size):
                if isinstance(entry, AudioPacket):
                    writer.write_audio(entry)
                    continue
                pictures = session.draw_batch([plan for _, plan in entry])
                for (frame, _), picture in zip(entry, pictures, strict=True):
                    with times.stage("encode (queue)"):
                        writer.write(picture, frame.pts)
                if progress is not None:
                    progress(session.frames, info.frame_count)
            if session.reference is None:
                raise NoFaceError(f"{driver}: no face found in any frame of the driver video")
        report.warnings.extend(reader.warnings)
        report.frames_lost = reader.frames_lost
    report.frames = session.frames
    report.frames_without_face = session.frames_without_face
    report.seconds = time.perf_counter() - started
    return report
