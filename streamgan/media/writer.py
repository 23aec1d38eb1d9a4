"""Encoding frames to H.264 (plus the input's audio) into a file that appears only when done.

Timestamps are passed through untouched in the caller's time base, so a
variable-frame-rate input stays variable and audio copied from the input
stays in sync. Encoding and muxing run in a background thread by default,
overlapping with the caller's per-frame work.
"""

from __future__ import annotations

import logging
import os
import threading
from fractions import Fraction
from pathlib import Path
from types import TracebackType

import av
import av.container
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

from streamgan.errors import OutputError
from streamgan.media.atomic import AtomicFile
from streamgan.media.audio import AudioOutput
from streamgan.media.channel import Channel, spawn, stop_worker
from streamgan.media.container import ffmpeg_reason, open_output, output_format
from streamgan.media.frame import AudioPacket, AudioPacketData, RgbImage

log = logging.getLogger(__name__)

_Job = av.VideoFrame | AudioPacketData

_AVCOL_SPC_SMPTE170M = 6
_AVCOL_RANGE_MPEG = 1
_ABORT_JOIN_TIMEOUT_S = 10.0


class VideoWriter:
    """Write frames (YUV 4:2:0 or RGB) and audio packets to an .mp4, .mov or .mkv file.

    Use as a context manager: a clean exit flushes the encoders and renames the
    finished file into place; an exception discards everything, leaving no
    file (and any previous file of that name untouched).

    ``time_base`` is the unit of the pts given to :meth:`write` (pass the
    reader's ``info.time_base`` to keep its timestamps exact); ``rate`` is only
    a hint for the encoder and for frames written without pts. ``audio_from``
    is the input audio stream whose packets :meth:`write_audio` will receive.
    ``extra_options`` are further libx264 options (e.g. ``{"tune": "film"}``).
    ``shown_as`` is the name errors and logs use when ``path`` is itself a temporary
    file (the unsigned video before signing): the user's output, never the temp name.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        width: int,
        height: int,
        time_base: Fraction,
        rate: Fraction | None,
        crf: int = 20,
        preset: str = "veryfast",
        audio_from: AudioStream | None = None,
        threaded: bool = True,
        queue_size: int = 8,
        extra_options: dict[str, str] | None = None,
        shown_as: Path | None = None,
    ) -> None:
        if width <= 0 or height <= 0 or width % 2 or height % 2:
            raise ValueError(f"frame size must be positive and even, got {width}x{height}")
        if time_base <= 0:
            raise ValueError(f"time_base must be positive, got {time_base}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self._real_path = Path(path)
        self.path = Path(shown_as) if shown_as is not None else self._real_path
        """What messages name: the user's output."""
        self.width = width
        self.height = height
        self.time_base = Fraction(time_base)
        self.frames_written = 0
        """Video frames handed to the encoder so far."""
        self._pts_step = max(1, round(1 / (rate * self.time_base))) if rate else 1
        self._last_pts: int | None = None
        self._warned_pts = False
        self._error: BaseException | None = None
        self._closed = False
        self._channel: Channel[_Job] | None = None
        self._thread: threading.Thread | None = None
        self._container: av.container.OutputContainer | None = None
        self._audio: AudioOutput | None = None

        fmt = output_format(self._real_path)
        self._file = AtomicFile(self._real_path)
        try:
            # Index at the front so the file streams in browsers; costs one extra copy pass.
            options = {"movflags": "+faststart"} if fmt in ("mp4", "mov") else {}
            self._container = open_output(self._file.temp, fmt, self.path, options)
            self._video = self._add_video(self._container, rate, crf, preset, extra_options)
            if audio_from is not None:
                self._audio = AudioOutput(self._container, fmt, audio_from, self.path)
        except av.error.FFmpegError as e:
            self._release()
            raise OutputError(f"{self.path}: cannot write: {ffmpeg_reason(e)}") from e
        except BaseException:
            self._release()
            raise
        if threaded:
            channel: Channel[_Job] = Channel(queue_size)
            self._channel = channel
            self._thread = spawn(f"streamgan-writer:{self.path.name}", self._run, channel)

    def _add_video(
        self,
        container: av.container.OutputContainer,
        rate: Fraction | None,
        crf: int,
        preset: str,
        extra_options: dict[str, str] | None,
    ) -> VideoStream:
        options = {"crf": str(crf), "preset": preset, **(extra_options or {})}
        stream = container.add_stream("libx264", rate=rate, options=options)
        stream.width = self.width
        stream.height = self.height
        stream.pix_fmt = "yuv420p"
        # The caller's time base on both ends: every pts reaches the file unchanged.
        stream.codec_context.time_base = self.time_base
        stream.time_base = self.time_base
        # What write_rgb() produces (swscale's default); tagged so players agree.
        stream.codec_context.colorspace = _AVCOL_SPC_SMPTE170M
        stream.codec_context.color_range = _AVCOL_RANGE_MPEG
        return stream

    # -- writing -----------------------------------------------------------------------

    def write(self, picture: npt.NDArray[np.uint8], pts: int | None) -> None:
        """Queue one frame given as planar YUV 4:2:0 (BT.601, limited range).

        ``picture`` has shape ``(height * 3 // 2, width)``: the Y plane followed
        by the U and V planes, as ``av.VideoFrame.from_ndarray(..., "yuv420p")``
        takes it. ``pts`` is in ``time_base`` units; None continues from the
        previous frame at ``rate``.
        """
        expected = (self.height * 3 // 2, self.width)
        if picture.dtype != np.uint8 or picture.shape != expected:
            raise ValueError(
                f"expected a yuv420p uint8 array of shape {expected},"
                f" got {picture.dtype} {picture.shape}"
            )
        self._check_usable()
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(picture), format="yuv420p")
        self._submit_video(frame, pts)

    def write_rgb(self, rgb: RgbImage, pts: int | None) -> None:
        """Queue one HxWx3 uint8 RGB frame (converted to YUV by swscale)."""
        expected = (self.height, self.width, 3)
        if rgb.dtype != np.uint8 or rgb.shape != expected:
            raise ValueError(
                f"expected an RGB uint8 array of shape {expected}, got {rgb.dtype} {rgb.shape}"
            )
        self._check_usable()
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
        self._submit_video(frame.reformat(format="yuv420p"), pts)

    def write_audio(self, item: AudioPacket) -> None:
        """Queue one audio packet from the reader; a no-op if the writer has no audio."""
        self._check_usable()
        if self._audio is None:
            return
        self._submit(item.packet)

    def _submit_video(self, frame: av.VideoFrame, pts: int | None) -> None:
        frame.pts = self._next_pts(pts)
        frame.time_base = self.time_base
        self._submit(frame)

    def _next_pts(self, pts: int | None) -> int:
        last = self._last_pts
        if pts is None:
            pts = 0 if last is None else last + self._pts_step
        elif last is not None and pts <= last:
            # H.264 in MP4 cannot hold two frames at one time (or going back).
            if not self._warned_pts:
                log.warning(
                    "%s: non-increasing pts %d after %d; nudging it forward", self.path, pts, last
                )
                self._warned_pts = True
            pts = last + 1
        self._last_pts = pts
        return pts

    def _check_usable(self) -> None:
        if self._error is not None:
            raise self._error
        if self._closed:
            raise RuntimeError(f"{self.path}: writer is closed")

    def _submit(self, job: _Job) -> None:
        channel = self._channel
        if channel is None:
            self._process(job)
        elif not channel.put(job):
            raise self._error or RuntimeError(f"{self.path}: writer thread stopped")

    def _run(self, channel: Channel[_Job]) -> None:
        """Background thread: encode and mux jobs until the channel finishes or closes."""
        try:
            for job in channel:
                self._process(job)
        except BaseException as e:  # re-raised in the caller on its next call
            self._error = e
            channel.close()

    def _process(self, job: _Job) -> None:
        container = self._container
        assert container is not None
        if isinstance(job, av.VideoFrame):
            try:
                container.mux(self._video.encode(job))
            except av.error.FFmpegError as e:
                raise OutputError(f"{self.path}: cannot write: {ffmpeg_reason(e)}") from e
            self.frames_written += 1
        elif self._audio is not None:
            try:
                self._audio.write(job)
            except (av.error.FFmpegError, ValueError) as e:  # e.g. audio format changing mid-way
                raise OutputError(f"{self.path}: cannot write audio: {ffmpeg_reason(e)}") from e

    # -- finishing ---------------------------------------------------------------------

    def close(self) -> None:
        """Finish the file: drain the queue, flush encoders, rename into place. Idempotent."""
        if self._closed:
            return
        try:
            if self._error is not None:
                raise self._error
            if self._channel is not None and self._thread is not None:
                self._channel.finish()
                self._thread.join()
                if self._error is not None:
                    raise self._error
            self._finish()
        except BaseException:
            self.abort()
            raise
        self._closed = True

    def _finish(self) -> None:
        container = self._container
        assert container is not None
        try:
            container.mux(self._video.encode(None))
            if self._audio is not None:
                try:
                    self._audio.flush()
                except ValueError as e:
                    raise OutputError(f"{self.path}: cannot write audio: {e}") from e
            if self.frames_written == 0:
                raise OutputError(f"{self.path}: cannot write: no video frames were written")
            self._container = None
            container.close()
        except av.error.FFmpegError as e:
            raise OutputError(f"{self.path}: cannot write: {ffmpeg_reason(e)}") from e
        self._file.commit()
        log.info("%s: wrote %d frames", self.path, self.frames_written)

    def abort(self) -> None:
        """Stop without producing a file; any previous file at ``path`` is left alone."""
        if self._closed:
            return
        self._closed = True
        channel, thread = self._channel, self._thread
        if channel is not None and thread is not None and not stop_worker(
                channel, thread, _ABORT_JOIN_TIMEOUT_S):
            log.warning("%s: encoder thread did not stop; abandoning it", self.path)
            self._file.discard()
            return
        self._release()

    def _release(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception as e:  # the file is being thrown away anyway
                log.debug("%s: error while closing aborted output: %s", self.path, e)
        self._file.discard()

    def __enter__(self) -> VideoWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
