"""Running one job, whole, on one worker: the same library calls as the single commands.

A worker decodes, renders and encodes its job itself (frames never travel anywhere)
and returns one plain result row, also when the job fails: a failure is data for the
report, never an exception that would stop the batch. Consent is checked here, by
the same pipeline call ``streamgan reenact`` makes, on the machine that renders.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from streamgan.batch.jobs import Job
from streamgan.errors import OutputError, StreamganError

log = logging.getLogger(__name__)

DONE, FAILED, SKIPPED, NOT_RUN = "done", "failed", "skipped", "not run"


@dataclass
class JobResult:
    """One line of ``batch-report.jsonl``."""

    id: str
    kind: str
    output: str
    status: str
    seconds: float = 0.0
    frames: int = 0
    watermark: list[str] = field(default_factory=list)
    """Payloads embedded (one per clip; one for reenact and translate)."""
    consent_record: str | None = None
    error: str | None = None
    worker: str = ""
    """host:pid of the process that ran it."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def from_dict(row: dict[str, Any]) -> JobResult:
        return JobResult(**{k: row[k] for k in JobResult.__dataclass_fields__ if k in row})


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def output_verifies(path: Path, kind: str) -> bool:
    """Whether a previous run's output is complete: a valid C2PA manifest and our
    watermark (``streamgan verify``'s checks). Generate jobs: every clip in the folder."""
    from streamgan.safety.provenance import read_manifest
    from streamgan.safety.watermark import WatermarkKey, detect_file

    clips = sorted(path.glob("clip-*.mp4")) if kind == "generate" else [path]
    if not clips or not all(p.is_file() for p in clips):
        return False
    key = WatermarkKey.load_or_create()
    try:
        for clip in clips:
            manifest = read_manifest(clip)
            if manifest.state not in ("Valid", "Trusted"):
                return False
            if not detect_file(clip, key, max_frames=60).present:
                return False
    except StreamganError:
        return False
    return True


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{folder}: cannot create the folder ({e.strerror or e})") from e


class BatchWorker:
    """Runs jobs one after another; what can be loaded once is kept between jobs.

    Translation models are loaded once per worker (a batch usually applies one model
    to many videos). Ray makes one per actor; the process fallback one per process.
    """

    def __init__(self) -> None:
        self._models: dict[str | None, Any] = {}

    def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
        """Ray Data's per-row entry point: a job row in, a result row out."""
        return self.run(Job.from_row(row)).to_dict()

    def run(self, job: Job) -> JobResult:
        result = JobResult(id=job.id, kind=job.kind, output=str(job.output), status=FAILED,
                           worker=worker_name())
        started = time.perf_counter()
        try:
            if job.kind != "generate":  # generate makes its own folder
                _make_folder(job.output.parent)
            self._run(job, result)
            result.status = DONE
        except StreamganError as e:
            result.error = str(e)
        except MemoryError:
            result.error = "out of memory"
        except Exception as e:  # a bug, but one job's bug must not stop the batch
            log.exception("job %s failed", job.id)
            result.error = f"{type(e).__name__}: {e}"
        result.seconds = round(time.perf_counter() - started, 3)
        return result

    def _run(self, job: Job, result: JobResult) -> None:
        if job.kind == "reenact":
            from streamgan.pipeline.reenact import reenact

            report = reenact(job.inputs["driver"], job.inputs["target"], job.output,
                             job.settings())
            result.frames, result.watermark = report.frames, [report.watermark]
            result.consent_record = report.consent_record
        elif job.kind == "translate":
            from streamgan.pipeline.translate import translate

            settings = job.settings()
            done = translate(job.inputs["input"], job.output, settings,
                             model=self._model(settings.model))
            result.frames, result.watermark = done.frames, [done.watermark]
        else:
            from streamgan.generate.sample import generate

            clips = generate(job.settings())
            result.frames = clips.frames
            result.watermark = list(clips.watermarks)

    def _model(self, name: str | None) -> Any:
        if name not in self._models:
            from streamgan.translate.registry import resolve_model

            self._models[name] = resolve_model(name)
        return self._models[name]
