"""SIGTERM and SIGHUP stop a run the way Ctrl-C does: cleanly, with no file left behind.

``kill``, a closing terminal, systemd, Docker and job schedulers stop a process with
SIGTERM or SIGHUP, whose default action ends Python at once: no ``finally`` runs, so
every temporary file stays and the exit status is the signal's. Here each of them
raises :class:`Interrupted` (a KeyboardInterrupt) in the main thread, so the same
unwinding that handles Ctrl-C removes the temporary files and the command exits
with 128 + the signal's number (130, 143, 129) and one line.

A second signal while that cleanup runs is ignored (a double Ctrl-C must not cut the
cleanup short); a third ends the process at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from types import FrameType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
FORCE_AFTER = 3
"""The signal that ends the process without cleanup (the first raises, the next are
ignored while cleaning up)."""


class Interrupted(KeyboardInterrupt):
    """The run was stopped by a signal; ``signum`` says which."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def exit_status(error: KeyboardInterrupt) -> int:
    """The shell's convention for a process stopped by a signal: 128 + its number."""
    signum = error.signum if isinstance(error, Interrupted) else signal.SIGINT
    return 128 + int(signum)


def message(error: KeyboardInterrupt) -> str:
    """The one line printed for an interrupted run; names the signal unless it was Ctrl-C."""
    if isinstance(error, Interrupted) and error.signum != signal.SIGINT:
        return f"streamgan: interrupted ({signal.Signals(error.signum).name})"
    return "streamgan: interrupted"


class _Handler:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self, signum: int, frame: FrameType | None) -> None:
        self.count += 1
        if self.count == 1:
            raise Interrupted(signum)
        if self.count >= FORCE_AFTER:
            os._exit(128 + signum)


@contextlib.contextmanager
def interrupts() -> Iterator[None]:
    """Within the block, SIGINT, SIGTERM and SIGHUP raise :class:`Interrupted` once.

    Only the main thread can install handlers (an embedding caller running the CLI in
    a worker thread keeps its own); the previous handlers come back afterwards. A
    signal the process was started ignoring stays ignored: under ``nohup`` (SIGHUP
    ignored) a hang-up must not stop the job.
    """
    handler = _Handler()
    previous: dict[signal.Signals, Any] = {}
    try:
        for sig in HANDLED:
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue
            previous[sig] = signal.signal(sig, handler)
    except ValueError:  # not the main thread
        _restore(previous)
    try:
        yield
    finally:
        _restore(previous)


def _restore(previous: dict[signal.Signals, Any]) -> None:
    for sig, old in previous.items():
        signal.signal(sig, old)
    previous.clear()
