"""Decoding a video file into upright RGB frames, with its audio packets alongside.

Items come out in demux order (video frames and still-encoded audio packets
interleaved as in the file) so a writer can copy the audio without buffering
a whole track and A/V sync is kept by construction. Decoding runs in a
background thread by default so it overlaps with the caller's per-frame work.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections import deque
from collections.abc import Generator, Iterator
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import cast

import av
import av.container
from av.audio.stream import AudioStream
from av.stream import Disposition
from av.video.stream import VideoStream

from streamgan.errors import InputError
from streamgan.media.channel import Channel, spawn, stop_worker
from streamgan.media.container import ffmpeg_reason, open_input
from streamgan.media.frame import AudioPacket, AudioPacketData, VideoFrame
from streamgan.media.info import VideoInfo
from streamgan.media.picture import RgbConverter

log = logging.getLogger(__name__)

Item = VideoFrame | AudioPacket
_Decoded = av.VideoFrame | AudioPacketData

_FALLBACK_RATE = Fraction(25)
"""Frame rate assumed only to invent timestamps for files that have neither pts nor rate."""

_JOIN_TIMEOUT_S = 10.0
_MAX_LEADING_ERRORS = 50
"""Undecodable packets tolerated before the first picture (a stream cut mid-GOP)."""
_MAX_ERRORS_IN_A_ROW = 250
"""Undecodable packets in a row after which the rest is taken to be lost (10 s at 25 fps)."""
_MAX_DEMUX_ERRORS = 20
"""Unreadable blocks the demuxer may skip before reading gives up."""
_TRUNCATION_SLACK_S = 1.0
"""Video ending this much before the duration in the header is reported as truncation."""


class VideoReader:
    """Iterate a video file as :class:`VideoFrame` and :class:`AudioPacket` items.

    Opening validates the file and decodes its first frame, so every "this is
    not a usable video" problem surfaces here as :class:`InputError`, and
    :attr:`info` can report the upright output size. The reader can be
    iterated once; iteration ending (or breaking out of it) closes the reader.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        max_side: int | None = None,
        audio: bool = True,
        threaded: bool = True,
        queue_size: int = 8,
    ) -> None:
        if max_side is not None and max_side < 2:
            raise ValueError(f"max_side must be >= 2, got {max_side}")
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, got {queue_size}")
        self.path = Path(path)
        self.warnings: list[str] = []
        """Problems that did not stop reading (e.g. a truncated file), one line each."""
        self.frames_read = 0
        """Video frames handed to the caller so far."""
        self.frames_lost = 0
        """Frames whose data was damaged and skipped (known once reading has ended)."""
        self._video_packets = 0
        self._damage_events = 0
        self._damage_reason: str | None = None
        self._damage_span = (math.inf, -math.inf)
        self._threaded = threaded
        self._queue_size = queue_size
        self._frames_decoded = 0
        self._next_index = 0
        self._last_pts: int | None = None
        self._iterated = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._channel: Channel[Item] | None = None
        self._container: av.container.InputContainer | None = open_input(self.path)
        try:
            self._video, self._audio = self._pick_streams(self._container, audio)
            self._video.thread_type = "AUTO"
            self._time_base = self._video.time_base or Fraction(1, 90000)
            average = _positive(self._video.average_rate)
            guessed = _positive(self._video.guessed_rate)
            self._rate = average or guessed
            # Raw streams report a placeholder average (25) but their real rate as guessed.
            self._step_rate = guessed or average or _FALLBACK_RATE
            self._decoded = self._demux_decode(self._container)
            self._pending: deque[_Decoded] = deque()
            first = self._prefetch()
            self._convert = RgbConverter(first.width, first.height, first.rotation, max_side)
            self.info = self._describe(self._container, first)
        except BaseException:
            self._close_container()
            raise

    # -- opening -----------------------------------------------------------------------

    def _pick_streams(
        self, container: av.container.InputContainer, audio: bool
    ) -> tuple[VideoStream, AudioStream | None]:
        # Cover art in music files is a one-picture "video" stream; it is not a video.
        videos = [
            s for s in container.streams.video if not s.disposition & Disposition.attached_pic
        ]
        if not videos:
            raise InputError(f"{self.path}: has no video stream")
        audios = container.streams.audio
        return videos[0], (audios[0] if audio and audios else None)

    def _prefetch(self) -> av.VideoFrame:
        """Decode up to the first picture, keeping what came before it for iteration."""
        for item in self._decoded:
            self._pending.append(item)
            if isinstance(item, av.VideoFrame):
                return item
        raise InputError(f"{self.path}: contains no decodable video frames")

    def _describe(self, container: av.container.InputContainer, first: av.VideoFrame) -> VideoInfo:
        video = self._video
        duration: float | None = None
        if video.duration:
            duration = float(video.duration * self._time_base)
        elif container.duration:
            duration = container.duration / av.time_base
        frame_count: int | None = video.frames or None
        if frame_count is None and duration and self._rate:
            frame_count = round(duration * self._rate)
        audios = container.streams.audio
        return VideoInfo(
            path=self.path,
            width=self._convert.width,
            height=self._convert.height,
            coded_width=first.width,
            coded_height=first.height,
            rotation=self._convert.rotation,
            time_base=self._time_base,
            average_rate=self._rate,
            frame_count=frame_count,
            duration=duration,
            codec=video.codec_context.name,
            audio_codec=audios[0].codec_context.name if audios else None,
        )

    # -- decoding ----------------------------------------------------------------------

    def _demux_decode(
        self, container: av.container.InputContainer
    ) -> Generator[_Decoded, None, None]:
        """Decoded video frames and raw audio packets, in file order.

        A damaged stretch in the middle (a bad sector, a corrupt download) costs only
        the frames that cannot be decoded: the packets after it still decode, with
        their own timestamps, and the audio goes on, so picture and sound stay in
        sync. Reading gives up only when nothing decodes for a long run of packets.
        """
        streams: list[VideoStream | AudioStream] = [self._video]
        if self._audio is not None:
            streams.append(self._audio)
        packets = container.demux(streams)
        leading_errors: list[BaseException] = []
        failed_in_a_row = 0
        demux_errors = 0
        last_pts: int | None = None
        while True:
            try:
                packet = next(packets)
            except StopIteration:
                break
            except av.error.FFmpegError as e:
                demux_errors += 1
                if self._frames_decoded == 0 or demux_errors > _MAX_DEMUX_ERRORS:
                    yield from self._salvage(e)
                    return
                self._damaged(e, None)
                packets = container.demux(streams)  # the demuxer resumes past the bad block
                continue
            # demux() ends with an empty flush packet per stream (their stream_index is
            # not set, hence the type check): the video one drains the decoder.
            if packet.stream.type == "video":
                if packet.size > 0:
                    self._video_packets += 1
                try:
                    frames = self._video.decode(packet)
                except av.error.FFmpegError as e:
                    # Streams cut mid-GOP (recordings, TS captures) start with packets
                    # that cannot decode yet; only give up if nothing ever does.
                    if self._frames_decoded == 0:
                        if len(leading_errors) < _MAX_LEADING_ERRORS:
                            leading_errors.append(e)
                            continue
                        yield from self._salvage(leading_errors[0])
                        return
                    failed_in_a_row += 1
                    if failed_in_a_row > _MAX_ERRORS_IN_A_ROW:
                        yield from self._salvage(e)
                        return
                    self._damaged(e, packet.pts)
                    continue
                failed_in_a_row = 0
                for frame in frames:
                    if self._damage_events and frame.pts is not None \
                            and last_pts is not None and frame.pts <= last_pts:
                        continue  # a picture the damage put out of order: lost with it
                    if frame.pts is not None:
                        last_pts = frame.pts
                    self._frames_decoded += 1
                    yield frame
            elif packet.size > 0:
                yield cast(AudioPacketData, packet)
        if self._frames_decoded == 0 and leading_errors:
            yield from self._salvage(leading_errors[0])
        if self._damage_events:
            self._report_damage()  # counts what is missing; no second, "truncated" warning
        else:
            self._check_complete(container)

    def _damaged(self, error: BaseException, pts: int | None) -> None:
        """Note one undecodable packet (or unreadable block) and carry on."""
        if self._damage_reason is None:
            self._damage_reason = ffmpeg_reason(error)
        if pts is not None:
            when = float(pts * self._time_base)
            self._damage_span = (min(self._damage_span[0], when), max(self._damage_span[1], when))
        self._damage_events += 1

    def _report_damage(self) -> None:
        """One warning for all the damage, once the count of lost frames is known."""
        self.frames_lost = max(0, self._video_packets - self._frames_decoded)
        start, end = self._damage_span
        where = ("" if start > end else f" at {start:.2f}s" if end - start < 0.01
                 else f" between {start:.2f}s and {end:.2f}s")
        message = (f"{self.path}: damaged data{where} ({self._damage_reason}): "
                   f"{self.frames_lost} frame{'s' if self.frames_lost != 1 else ''} lost and "
                   "skipped; the rest keeps its timing and audio")
        log.warning("%s", message)
        self.warnings.append(message)

    def _salvage(self, error: BaseException) -> Iterator[av.VideoFrame]:
        """After a demux/decode error: drain the decoder, then give up (loudly)."""
        try:
            frames = self._video.decode(None)
        except av.error.FFmpegError:
            frames = []
        for frame in frames:
            self._frames_decoded += 1
            yield frame
        reason = ffmpeg_reason(error)
        if self._frames_decoded == 0:
            raise InputError(f"{self.path}: cannot decode video ({reason})") from error
        message = (
            f"{self.path}: decoding stopped at frame {self._frames_decoded} ({reason});"
            " the output will be shorter"
        )
        log.warning("%s", message)
        self.warnings.append(message)

    def _check_complete(self, container: av.container.InputContainer) -> None:
        """Warn when the pictures end well before the header says the video does.

        A file cut short (an interrupted download or copy) decodes without any
        error, just shorter; that deserves the same warning as a decode error.
        """
        tb = self._time_base
        video = self._video
        if video.duration:
            end = float(((video.start_time or 0) + video.duration) * tb)
        elif container.duration:
            end = ((container.start_time or 0) + container.duration) / av.time_base
        else:
            return
        if self._last_pts is None:
            return
        last_end = float(self._last_pts * tb + 1 / self._step_rate)
        missing = end - last_end
        if missing > max(_TRUNCATION_SLACK_S, 0.1 * end):
            message = (
                f"{self.path}: video stops at {last_end:.2f}s but the file says it lasts"
                f" {end:.2f}s (truncated?); the output will be shorter"
            )
            log.warning("%s", message)
            self.warnings.append(message)

    def _items(self) -> Generator[Item, None, None]:
        while self._pending:
            yield self._wrap(self._pending.popleft())
        for decoded in self._decoded:
            yield self._wrap(decoded)

    def _wrap(self, decoded: _Decoded) -> Item:
        if isinstance(decoded, av.Packet):
            return AudioPacket(decoded)
        return self._frame(decoded)

    def _frame(self, frame: av.VideoFrame) -> VideoFrame:
        index = self._next_index
        self._next_index += 1
        pts = frame.pts
        if pts is None:
            # PyAV does not expose best_effort_timestamp; its fallback is the packet dts.
            pts = frame.dts
        if pts is None:
            step = 1 / (self._step_rate * self._time_base)
            pts = (
                self._last_pts + max(1, round(step))
                if self._last_pts is not None
                else round(index * step)
            )
        self._last_pts = pts
        return VideoFrame(
            index=index,
            pts=pts,
            time_base=self._time_base,
            time=float(pts * self._time_base),
            image=self._convert(frame),
        )

    # -- iteration ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[Item]:
        if self._closed:
            raise RuntimeError(f"{self.path}: reader is closed")
        if self._iterated:
            raise RuntimeError(f"{self.path}: a VideoReader can be iterated only once")
        self._iterated = True
        return self._iterate()

    def _iterate(self) -> Iterator[Item]:
        source = self._start_thread() if self._threaded else self._items()
        try:
            for item in source:
                if isinstance(item, VideoFrame):
                    self.frames_read += 1
                yield item
                if self._closed:
                    break
        finally:
            self.close()

    def _start_thread(self) -> Iterator[Item]:
        channel: Channel[Item] = Channel(self._queue_size)
        self._channel = channel
        self._thread = spawn(f"streamgan-reader:{self.path.name}", self._produce, channel)
        return iter(channel)

    def _produce(self, channel: Channel[Item]) -> None:
        """Background thread: decode into ``channel`` until the end or until it is closed."""
        error: BaseException | None = None
        items = self._items()
        try:
            for item in items:
                if not channel.put(item):
                    break
        except BaseException as e:  # handed to the consumer, which re-raises it
            error = e
        finally:
            items.close()
            channel.finish(error)

    # -- public ------------------------------------------------------------------------

    @property
    def audio_stream(self) -> AudioStream | None:
        """The input audio stream being passed on (for the writer's template), or None.

        Only valid while the reader is open: it lives inside the input container.
        """
        if self._audio is not None and self._container is None:
            raise RuntimeError(f"{self.path}: reader is closed; its audio stream is gone")
        return self._audio

    def close(self) -> None:
        """Stop decoding (promptly, even with a full queue) and close the file. Idempotent."""
        if self._closed:
            return
        self._closed = True
        thread, channel = self._thread, self._channel
        if thread is not None and channel is not None and not stop_worker(
                channel, thread, _JOIN_TIMEOUT_S):
            log.warning("%s: decoder thread did not stop; leaving it to finish", self.path)
            return
        self._close_container()

    def _close_container(self) -> None:
        decoded = getattr(self, "_decoded", None)
        if decoded is not None:
            decoded.close()
        container, self._container = self._container, None
        if container is not None:
            container.close()

    def __enter__(self) -> VideoReader:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _positive(rate: Fraction | None) -> Fraction | None:
    return rate if rate else None


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    """Describe a video file (validating it like :class:`VideoReader` does)."""
    with VideoReader(path, audio=False, threaded=False) as reader:
        return reader.info
