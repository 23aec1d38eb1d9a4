"""What a video file contains, as far as streamgan cares."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".y4m")
"""File endings taken for videos when a folder of training data is searched."""


@dataclass(frozen=True)
class VideoInfo:
    """Properties of a video file and of the frames a reader will produce from it.

    ``width``/``height`` describe the *output* images (upright, after
    ``max_side`` scaling), which is what a writer needs; ``coded_width``/
    ``coded_height`` are the pictures as stored in the file.
    """

    path: Path
    width: int
    height: int
    coded_width: int
    coded_height: int
    rotation: int
    """Counter-clockwise degrees (0/90/180/270) applied to stored pictures to show them upright."""
    time_base: Fraction
    """Unit of the frames' ``pts``; pass it to the writer to keep timestamps exact."""
    average_rate: Fraction | None
    frame_count: int | None
    """Container's count or an estimate from duration x rate; None/0 when unknown."""
    duration: float | None
    """Seconds, from the video stream or else the container; None when unknown."""
    codec: str
    audio_codec: str | None
    """Codec of the file's first audio stream, whether or not the reader passes audio on."""
