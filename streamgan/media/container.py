"""Opening PyAV containers, with every failure worded for the user.

PyAV reports a missing file, a text file and a truncated MP4 with the same
family of ``av.error`` exceptions; users need to know which one it was, so
the checks that can be done before FFmpeg sees the file are done here first.
"""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import av
import av.container

from streamgan.errors import InputError, OutputError

log = logging.getLogger(__name__)

OUTPUT_FORMATS: dict[str, str] = {".mp4": "mp4", ".mov": "mov", ".mkv": "matroska"}
"""Output extension -> FFmpeg muxer name."""


def ffmpeg_reason(error: BaseException) -> str:
    """The human part of an FFmpeg/OS error ("Invalid data found when processing input")."""
    reason = getattr(error, "strerror", None)
    return str(reason or error or type(error).__name__)


def check_input_file(path: Path) -> None:
    """Raise InputError unless ``path`` is an existing, non-empty regular file (or device)."""
    try:
        st = path.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, not a file")
    if stat.S_ISREG(st.st_mode) and st.st_size == 0:
        raise InputError(f"{path}: empty file")


def open_input(path: Path) -> av.container.InputContainer:
    """Open ``path`` for demuxing; InputError if it is missing, empty or not a media file."""
    check_input_file(path)
    try:
        return av.open(str(path), mode="r")
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except (av.error.FFmpegError, OSError, ValueError) as e:
        reason = ffmpeg_reason(e)
        if _looks_like_mp4(path):
            # Typically an MP4 cut short before its index ("moov atom not found").
            raise InputError(
                f"{path}: damaged or incomplete MP4/MOV file (FFmpeg could not read it: {reason})"
            ) from e
        raise InputError(f"{path}: not a video file (FFmpeg could not read it: {reason})") from e


def _looks_like_mp4(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            head = f.read(12)
    except OSError:
        return False
    return head[4:8] == b"ftyp"


def output_format(path: Path) -> str:
    """FFmpeg muxer name for ``path``'s extension; OutputError for one we do not write."""
    fmt = OUTPUT_FORMATS.get(path.suffix.lower())
    if fmt is None:
        supported = ", ".join(OUTPUT_FORMATS)
        raise OutputError(
            f"{path}: cannot write: unsupported video format {path.suffix or '(none)'!r}"
            f" (use {supported})"
        )
    return fmt


def open_output(
    temp: Path, fmt: str, target: Path, container_options: dict[str, str] | None = None
) -> av.container.OutputContainer:
    """Open ``temp`` for muxing as ``fmt``; errors name ``target``, the file the user asked for."""
    try:
        return av.open(str(temp), mode="w", format=fmt, container_options=container_options or {})
    except (av.error.FFmpegError, OSError, ValueError) as e:
        raise OutputError(f"{target}: cannot write: {ffmpeg_reason(e)}") from e
