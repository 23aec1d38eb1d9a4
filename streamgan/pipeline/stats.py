"""Time spent per stage, summed over a run, for the closing summary and benchmarks."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class StageTimes:
    """Seconds per named stage, in the order stages were first seen."""

    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - start)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def per_frame_ms(self, frames: int) -> dict[str, float]:
        return {k: 1000.0 * v / max(frames, 1) for k, v in self.seconds.items()}


@dataclass
class JobReport:
    """What a job that writes one video did, for the closing summary."""

    output: Path
    watermark: str = ""
    """The payload (hex) embedded in every frame and named in the C2PA manifest."""
    frames: int = 0
    frames_lost: int = 0
    """Input frames whose data was damaged and skipped."""
    seconds: float = 0.0
    times: StageTimes = field(default_factory=StageTimes)
    warnings: list[str] = field(default_factory=list)

    @property
    def fps(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0

    def lost(self) -> str:
        """"; N frames lost to damaged input" for the summary line, or nothing."""
        return f"; frames lost to damaged input: {self.frames_lost}" if self.frames_lost else ""

    def per_frame(self) -> str:
        """Milliseconds per frame of each stage but preparation, for the summary line."""
        return ", ".join(f"{name} {ms:.1f} ms"
                         for name, ms in self.times.per_frame_ms(self.frames).items()
                         if name != "prepare")
