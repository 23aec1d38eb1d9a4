"""A batch from start to report: skip what is done, run the rest, account for every job.

While the batch runs, each finished job's row is appended to ``batch-report.jsonl.part``
(one flushed line: a crash loses at most the line being written); at the end, also
after Ctrl-C, the whole report (``batch-report.jsonl``, one row per job in the jobs'
order, "not run" for the rest) is written atomically and the log removed. Rewriting
the report after each job instead would write O(jobs²) bytes: terabytes for 100 000.
``resume`` skips jobs whose output already verifies (a valid C2PA manifest and the
watermark), so an interrupted or crashed batch carries on where it stopped.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from streamgan.batch.backends import Placement, backend_for, ray_available
from streamgan.batch.jobs import Job
from streamgan.batch.worker import DONE, FAILED, NOT_RUN, SKIPPED, JobResult, output_verifies
from streamgan.errors import OutputError
from streamgan.media.atomic import atomic_output, remove_stale

log = logging.getLogger(__name__)

REPORT_NAME = "batch-report.jsonl"
LOG_SUFFIX = ".part"


@dataclass(frozen=True)
class BatchSettings:
    """How a batch runs (the jobs themselves carry what each one does)."""

    out_dir: Path
    placement: Placement = field(default_factory=Placement)
    use_ray: bool | None = None
    """None: Ray when it is installed, else local processes (said in the log)."""
    resume: bool = False


@dataclass
class BatchCounts:
    """What the progress display shows."""

    total: int
    done: int = 0
    failed: int = 0
    skipped: int = 0
    frames: int = 0
    started: float = field(default_factory=time.perf_counter)

    @property
    def finished(self) -> int:
        return self.done + self.failed + self.skipped

    @property
    def fps(self) -> float:
        elapsed = time.perf_counter() - self.started
        return self.frames / elapsed if elapsed > 0 else 0.0


@dataclass
class BatchReport:
    """The outcome: one result per job, in the jobs' order."""

    results: list[JobResult]
    path: Path
    backend: str
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def ok(self) -> bool:
        return all(r.status in (DONE, SKIPPED) for r in self.results)


Progress = Callable[[BatchCounts], None]


def run_batch(jobs: Sequence[Job], settings: BatchSettings,
              progress: Progress | None = None) -> BatchReport:
    """Run ``jobs``; the report is written whatever happens (also when interrupted)."""
    out = settings.out_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{out}: cannot create the folder ({e.strerror or e})") from e
    use_ray = ray_available() if settings.use_ray is None else settings.use_ray
    workers = settings.placement.workers
    plural = "" if workers == 1 else "es"
    if settings.use_ray is None and not use_ray:
        log.warning("Ray is not installed (pip install 'streamgan[cluster]'): running on "
                    "%d local process%s", workers, plural)
    elif not use_ray:
        log.info("running on %d local process%s", workers, plural)
    backend = backend_for(settings.placement, use_ray)
    results = {job.id: JobResult(id=job.id, kind=job.kind, output=str(job.output),
                                 status=NOT_RUN) for job in jobs}
    report = BatchReport(list(results.values()), out / REPORT_NAME, backend.name)
    counts = BatchCounts(total=len(jobs))
    started = time.perf_counter()

    log_path = report.path.with_name(report.path.name + LOG_SUFFIX)
    try:
        journal = open(log_path, "a", encoding="utf-8")
    except OSError as e:
        raise OutputError(f"{log_path}: cannot write: {e.strerror or e}") from e

    def finish(result: JobResult) -> None:
        results[result.id] = result
        counts.done += result.status == DONE
        counts.failed += result.status == FAILED
        counts.skipped += result.status == SKIPPED
        counts.frames += result.frames if result.status == DONE else 0
        journal.write(json.dumps(result.to_dict(), sort_keys=True) + "\n")
        journal.flush()
        if result.status == FAILED:
            log.error("job %s failed: %s", result.id, result.error)
        if progress is not None:
            progress(counts)

    pending: list[Job] = []
    try:
        for job in jobs:
            if settings.resume and output_verifies(job.output, job.kind):
                finish(JobResult(id=job.id, kind=job.kind, output=str(job.output),
                                 status=SKIPPED, error=None))
            else:
                pending.append(job)
        if progress is not None:
            progress(counts)
        if pending:
            with backend:
                for row in backend.run([job.to_row() for job in pending]):
                    finish(JobResult.from_dict(row))
    finally:
        # Workers stopped by a signal or killed leave temp files; their processes are
        # gone now, so these are stale and go (a finished output is never touched).
        for job in pending:
            if results[job.id].status != DONE:
                for output in _outputs(job):
                    remove_stale(output)
        report.seconds = time.perf_counter() - started
        report.results = list(results.values())
        journal.close()
        _write(report)
        log_path.unlink(missing_ok=True)
    return report


def _outputs(job: Job) -> list[Path]:
    if job.kind != "generate":
        return [job.output]
    count = int(job.options.get("count", 4))
    return [job.output / f"clip-{i:03d}.mp4" for i in range(count)] + [
        job.output / "preview.png"]


def _write(report: BatchReport) -> None:
    lines = "".join(json.dumps(r.to_dict(), sort_keys=True) + "\n" for r in report.results)
    with atomic_output(report.path) as temp:
        temp.write_text(lines, encoding="utf-8")
