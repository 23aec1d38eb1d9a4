"""Where jobs run: Ray (one machine or a cluster), or local processes without it.

Both run the same :class:`BatchWorker` and yield one result row per job as jobs
finish. Ray is the real engine: ``ray.data`` with one block per job, mapped over an
actor pool (a worker loads its models once and runs many jobs), retrying a job whose
worker died on another one. Without Ray installed, a process pool runs the same code
and retries the same way, on this machine only.
"""

from __future__ import annotations

import concurrent.futures as futures
import logging
import multiprocessing
import os
import signal
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from streamgan.batch.worker import FAILED, BatchWorker, JobResult, worker_name
from streamgan.errors import StreamganError

log = logging.getLogger(__name__)

Row = dict[str, Any]

_STOP_WAIT_S = 10.0
"""How long interrupted workers get to clean up before they are killed."""


@dataclass(frozen=True)
class Placement:
    """How many workers, with what each gets, and how often a lost job is retried."""

    workers: int = 1
    gpus_per_worker: float = 0.0
    retries: int = 2
    ray_address: str | None = None
    """None: a Ray started here, for this batch; "auto" or host:port: an existing cluster."""


def ray_available() -> bool:
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        return False
    return True


class RayBackend:
    """Jobs as a Ray dataset of paths, mapped over an actor pool of BatchWorkers."""

    name = "ray"

    def __init__(self, placement: Placement) -> None:
        self.placement = placement
        self._started_here = False

    def __enter__(self) -> RayBackend:
        # Set before Ray is imported: a Ray started here sends no usage statistics.
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        import ray

        address = self.placement.ray_address
        try:
            if address is None:
                # Loopback only and no dashboard: a batch on one machine opens nothing
                # to the network (Ray still listens on all interfaces for some ports;
                # the README says how to firewall a cluster).
                ray.init(num_cpus=max(self.placement.workers, 1), include_dashboard=False,
                         _node_ip_address="127.0.0.1", logging_level=logging.ERROR,
                         log_to_driver=False)
                self._started_here = True
            else:
                ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as e:
            raise StreamganError(f"cannot start or join Ray ({address or 'local'}): {e}") \
                from e
        _quiet_ray_data()
        return self

    def __exit__(self, *exc: object) -> None:
        import ray

        ray.shutdown()  # stops what this batch started; a joined cluster keeps running

    def run(self, rows: Sequence[Row]) -> Iterator[Row]:
        import ray.data
        from ray.data import ActorPoolStrategy

        p = self.placement
        dataset = ray.data.from_items(list(rows), override_num_blocks=len(rows))
        with warnings.catch_warnings():
            # Ray Data's own default is endless retries; bounding them still needs the
            # remote arguments it deprecates for 2.64 (hence the pin below 2.64).
            warnings.simplefilter("ignore", DeprecationWarning)
            mapped = dataset.map(
                BatchWorker,  # type: ignore[arg-type]  # a callable class: one per actor
                compute=ActorPoolStrategy(size=p.workers), num_cpus=1,
                num_gpus=p.gpus_per_worker or None,
                # A killed worker's actor restarts and its job runs again, at most
                # `retries` more times; outputs are atomic, so a rerun is harmless.
                max_restarts=-1, max_task_retries=p.retries)
        returned: set[str] = set()
        try:
            for row in mapped.iter_rows():
                returned.add(str(row["id"]))
                yield dict(row)
        except Exception as e:  # Ray gave up (retries exhausted): the rest is lost
            reason = _ray_reason(e)
            log.debug("ray dataset failed: %s", e)
            for row in rows:
                if str(row["id"]) not in returned:
                    yield JobResult(id=str(row["id"]), kind=row["kind"],
                                    output=row["output"], status=FAILED,
                                    error=f"worker lost: {reason}").to_dict()


def _quiet_ray_data() -> None:
    """No Ray Data progress bars or per-operator logs on the user's terminal."""
    from ray.data import DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _ray_reason(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__


_WORKER: BatchWorker | None = None
"""The one BatchWorker of a pool process (made by the pool's initializer)."""
_STOPPING = False
"""Set in a pool process by the batch's interruption: no further job may start there."""


def _start_worker() -> None:
    global _WORKER
    _WORKER = BatchWorker()
    signal.signal(signal.SIGINT, _interrupted)


def _interrupted(signum: int, frame: object) -> None:
    """The job under way unwinds (its temp files go); the pool must not hand this
    process the next job, which it has often queued already."""
    global _STOPPING
    _STOPPING = True
    raise KeyboardInterrupt


def _run_in_worker(row: Row) -> Row:
    if _STOPPING:
        os._exit(128 + signal.SIGINT)  # between jobs: nothing is half-written
    assert _WORKER is not None
    return _WORKER(row)


class ProcessBackend:
    """The same jobs on local processes, for machines without Ray.

    A process that dies (killed, out of memory) breaks the pool: every job that was
    running then is retried on a fresh pool, up to ``retries`` times each.
    """

    name = "processes"

    def __init__(self, placement: Placement) -> None:
        self.placement = placement

    def __enter__(self) -> ProcessBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def _pool(self) -> futures.ProcessPoolExecutor:
        # spawn: forking a process that holds torch's and MediaPipe's threads can hang.
        return futures.ProcessPoolExecutor(max_workers=self.placement.workers,
                                           mp_context=multiprocessing.get_context("spawn"),
                                           initializer=_start_worker)

    def run(self, rows: Sequence[Row]) -> Iterator[Row]:
        attempts = {str(row["id"]): 0 for row in rows}
        waiting = list(rows)
        while waiting:
            pool = self._pool()
            broken = False
            try:
                running = {pool.submit(_run_in_worker, row): row for row in waiting}
                waiting = []
                for done in futures.as_completed(running):
                    row = running[done]
                    try:
                        result = done.result()
                    except futures.process.BrokenProcessPool:
                        broken = True
                        key = str(row["id"])
                        attempts[key] += 1
                        if attempts[key] <= self.placement.retries:
                            waiting.append(row)
                            continue
                        result = JobResult(id=key, kind=row["kind"], output=row["output"],
                                           status=FAILED, worker=worker_name(),
                                           error="worker lost: its process died "
                                           f"{attempts[key]} times").to_dict()
                    yield result
            except BaseException:  # Ctrl-C, SIGTERM, or the caller stopped early
                _stop(pool)
                raise
            if broken:
                _stop(pool)
            else:
                pool.shutdown(wait=True)


def _stop(pool: futures.ProcessPoolExecutor) -> None:
    """Interrupt the pool's processes (each job then removes its temporary files, as
    Ctrl-C does), give them a few seconds, then kill what is left."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive() and process.pid is not None:
            try:
                os.kill(process.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
    for process in processes:
        process.join(_STOP_WAIT_S)
        if process.is_alive():
            process.kill()
            process.join(5)


def backend_for(placement: Placement, use_ray: bool) -> RayBackend | ProcessBackend:
    return RayBackend(placement) if use_ray else ProcessBackend(placement)
