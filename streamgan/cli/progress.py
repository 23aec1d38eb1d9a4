"""A rich progress bar for long commands, shown only on a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Update = Callable[[int, "int | None"], None]
"""Called with (units done, units expected or None)."""


@contextmanager
def progress_bar(enabled: bool, description: str) -> Iterator[Update | None]:
    """Yield an update function driving a transient bar, or None when not ``enabled``."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total or None)

        yield update
