"""``streamgan batch JOBS -o OUTDIR``: many reenact/translate/generate jobs, on Ray.

Also the shorthand ``streamgan batch reenact --drivers DIR --target IMAGE -o OUTDIR``
(and ``batch translate --inputs DIR``). The exit status is 0 only when every job is
done (or was already done, with ``--resume``); each failed job is one line, and the
report file has them all.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from streamgan.cli.args import add_trust_option, int_range
from streamgan.errors import InputError

SHORTHANDS = ("reenact", "translate")


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 64:
        raise argparse.ArgumentTypeError(f"{text} must be between 0 and 64")
    return value


def add_parser(commands: Any, parents: list[argparse.ArgumentParser]) -> None:
    p = commands.add_parser(
        "batch", parents=parents,
        help="run many reenact, translate or generate jobs (locally or on a Ray cluster)",
        description="JOBS is a .jsonl or .csv file, one job a line, or 'reenact' / "
        "'translate' with --drivers/--inputs DIR. Each job runs whole on one worker, "
        "through the same code as the single command; a report of every job is written "
        "to OUTDIR/batch-report.jsonl.")
    p.add_argument("jobs", help="the jobs file, or 'reenact' / 'translate' (shorthand)")
    p.add_argument("-o", "--output", type=Path, required=True, help="output folder")
    default_workers = max(1, (os.cpu_count() or 2) // 2)
    p.add_argument("--workers", type=int_range(1, 4096), default=default_workers,
                   help=f"jobs at once (default {default_workers}: half the cores, as "
                   "each job's decode, tracking and encode run in parallel)")
    p.add_argument("--gpus-per-worker", type=_fraction, default=0.0, metavar="F",
                   help="GPUs each worker reserves on Ray (e.g. 0.5); default 0")
    ray = p.add_mutually_exclusive_group()
    ray.add_argument("--ray", default=None, metavar="auto|ADDRESS",
                     help="join an existing Ray cluster (default: start Ray here for "
                     "this batch when it is installed)")
    ray.add_argument("--no-ray", action="store_true",
                     help="local processes, even when Ray is installed")
    p.add_argument("--retries", type=int_range(0, 100), default=2,
                   help="times a job whose worker died is run again (default 2)")
    p.add_argument("--resume", action="store_true",
                   help="skip jobs whose output exists and verifies (manifest and watermark)")
    p.add_argument("--drivers", type=Path, help="shorthand reenact: a folder of driver videos")
    p.add_argument("--target", type=Path, help="shorthand reenact: the target image")
    p.add_argument("--inputs", type=Path, help="shorthand translate: a folder of videos")
    p.add_argument("--model", default=None, help="shorthand translate: the model")
    add_trust_option(p)
    p.set_defaults(run=run)


def _jobs(args: argparse.Namespace) -> list[Any]:
    from streamgan.batch.jobs import folder_jobs, read_jobs

    if args.jobs == "reenact":
        if args.drivers is None or args.target is None:
            raise InputError("batch reenact needs --drivers DIR and --target IMAGE")
        options = {"trust": [str(p) for p in args.trust]} if args.trust else {}
        return folder_jobs("reenact", args.drivers, args.output, target=args.target,
                           options=options)
    if args.jobs == "translate":
        if args.inputs is None:
            raise InputError("batch translate needs --inputs DIR")
        return folder_jobs("translate", args.inputs, args.output,
                           options={"model": args.model} if args.model else {})
    jobs = read_jobs(Path(args.jobs), args.output)
    if args.trust:  # --trust applies to every reenact job, besides the job's own
        extra = [str(p) for p in args.trust]
        for job in jobs:
            if job.kind == "reenact":
                job.options["trust"] = [*job.options.get("trust", []), *extra]
    return jobs


def run(args: argparse.Namespace) -> int:
    from streamgan.batch.backends import Placement
    from streamgan.batch.runner import BatchSettings, run_batch
    from streamgan.batch.worker import DONE, FAILED, NOT_RUN, SKIPPED

    jobs = _jobs(args)
    settings = BatchSettings(
        out_dir=args.output, resume=args.resume, use_ray=False if args.no_ray else None,
        placement=Placement(workers=args.workers, gpus_per_worker=args.gpus_per_worker,
                            retries=args.retries, ray_address=args.ray))
    show = not args.quiet and sys.stderr.isatty()
    with _progress(show, len(jobs)) as progress:
        report = run_batch(jobs, settings, progress)
    if not args.quiet:
        print(f"batch of {len(jobs)} on {report.backend}: {report.count(DONE)} done, "
              f"{report.count(FAILED)} failed, {report.count(SKIPPED)} skipped (already "
              f"done), {report.count(NOT_RUN)} not run, in {report.seconds:.1f} s; report "
              f"{report.path}", file=sys.stderr)
    return 0 if report.ok else 1


class _progress:
    """A rich bar over jobs: done, failed, running, fps of frames processed."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled, self.total = enabled, total
        self._bar: Any = None

    def __enter__(self) -> Any:
        if not self.enabled:
            return None
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self._bar = Progress("batch", BarColumn(), MofNCompleteColumn(),
                             TextColumn("{task.fields[status]}"), transient=True)
        self._bar.__enter__()
        task = self._bar.add_task("batch", total=self.total, status="")

        def update(counts: Any) -> None:
            self._bar.update(task, completed=counts.finished,
                             status=f"failed {counts.failed}, skipped {counts.skipped}, "
                             f"{counts.fps:.1f} frames/s")

        return update

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
