"""Carrying the input's audio track into the output file.

Reenactment never touches the sound, so it is stream-copied whenever the
output container can hold its codec: bit-exact, no quality loss, nearly free.
Codecs the container cannot hold (Vorbis or PCM into MP4, say) are decoded and
re-encoded to AAC. Either way every packet keeps its own timestamp, which is
what keeps lips and voice in sync with the untouched video timestamps.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import av
import av.container
from av.audio.codeccontext import AudioCodecContext
from av.audio.stream import AudioStream

from streamgan.media.frame import AudioPacketData

log = logging.getLogger(__name__)

_PCM = frozenset({"pcm_s16le", "pcm_s24le", "pcm_s32le", "pcm_f32le", "pcm_u8"})
_PCM_BE = frozenset({"pcm_s16be", "pcm_s24be", "pcm_s32be", "pcm_f32be"})

COPYABLE: dict[str, frozenset[str]] = {
    "mp4": frozenset({"aac", "mp3", "opus", "ac3", "eac3", "alac", "flac"}),
    "mov": frozenset({"aac", "mp3", "ac3", "eac3", "alac"}) | _PCM | _PCM_BE,
    "matroska": frozenset({"aac", "mp3", "opus", "vorbis", "ac3", "eac3", "flac", "alac"}) | _PCM,
}
"""Audio codecs each output muxer takes as they are (FFmpeg accepts more, players fewer)."""

_AAC_RATES = frozenset(
    {96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}
)
_AAC_FRAME_SIZE = 1024
_RESYNC_S = 0.04
"""A decoded frame this far from where the previous one ended is a real gap, not jitter."""


class AudioOutput:
    """The output audio stream, fed with demuxed input packets in demux order."""

    def __init__(
        self,
        container: av.container.OutputContainer,
        fmt: str,
        source: AudioStream,
        target: Path,
    ) -> None:
        self._container = container
        self._source_time_base = source.time_base
        self.source_codec = source.codec_context.name
        self.copy = self._copyable(fmt, source)
        if self.copy:
            try:
                self.stream: AudioStream = container.add_stream_from_template(source)
            except ValueError:  # FFmpeg says this muxer cannot hold the codec after all
                self.copy = False
        if self.copy:
            log.info("%s: copying %s audio", target, self.source_codec)
        else:
            self._setup_transcode(source)
            log.info("%s: re-encoding %s audio to AAC", target, self.source_codec)

    @staticmethod
    def _copyable(fmt: str, source: AudioStream) -> bool:
        # ADTS AAC (from MPEG-TS) needs no special case: the MP4/MOV/MKV muxers insert
        # the aac_adtstoasc bitstream filter themselves.
        return source.codec_context.name in COPYABLE.get(fmt, frozenset())

    def _setup_transcode(self, source: AudioStream) -> None:
        src = source.codec_context
        decoder = av.CodecContext.create(src.name, "r")
        if not isinstance(decoder, AudioCodecContext):  # pragma: no cover - guards the type
            raise TypeError(f"{src.name} is not an audio codec")
        decoder.sample_rate = src.sample_rate
        decoder.layout = src.layout
        if src.format is not None:
            decoder.format = src.format
        decoder.extradata = src.extradata
        self._decoder = decoder

        rate = src.sample_rate if src.sample_rate in _AAC_RATES else 48000
        channels = src.channels
        layout = {1: "mono", 6: "5.1", 8: "7.1"}.get(channels, "stereo")
        stream = self._container.add_stream("aac", rate=rate)
        stream.layout = layout
        stream.bit_rate = 96000 * min(channels, 2) if channels <= 2 else 64000 * channels
        self.stream = stream
        self._resampler = av.AudioResampler(
            format="fltp", layout=layout, rate=rate, frame_size=_AAC_FRAME_SIZE
        )
        self._next_pts: int | None = None
        self._decode_errors = 0

    def write(self, packet: AudioPacketData) -> None:
        """Mux one input packet, copied or transcoded; its timestamp decides where it plays."""
        if not packet.time_base and self._source_time_base:
            packet.time_base = self._source_time_base
        if self.copy:
            # mux() rescales pts/dts/duration from the input to the output time base.
            packet.stream = self.stream
            self._container.mux(packet)
            return
        try:
            frames = self._decoder.decode(packet)
        except av.error.FFmpegError as e:
            # A damaged audio packet costs a few ms of sound, not the whole output.
            self._decode_errors += 1
            if self._decode_errors == 1:
                log.warning("skipping undecodable audio packet at pts %s: %s", packet.pts, e)
            return
        for frame in frames:
            self._encode(frame)

    def _encode(self, frame: av.AudioFrame | None) -> None:
        if frame is not None:
            self._retime(frame)
        for out in self._resampler.resample(frame):
            self._container.mux(self.stream.encode(out))

    def _retime(self, frame: av.AudioFrame) -> None:
        """Express pts in samples, continuing the previous frame unless there is a real gap.

        Input time bases are often coarse (1/1000 in Matroska); rounding each
        frame's time separately would jitter the AAC packets by a few samples.
        """
        rate = frame.sample_rate
        pts: int | None = None
        if frame.pts is not None and frame.time_base:
            pts = round(frame.pts * frame.time_base * rate)
        expected = self._next_pts
        if expected is not None and (pts is None or abs(pts - expected) < _RESYNC_S * rate):
            pts = expected
        if pts is None:
            pts = 0
        frame.pts = pts
        frame.time_base = Fraction(1, rate)
        self._next_pts = pts + frame.samples

    def flush(self) -> None:
        """Push out what the decoder, resampler and encoder still hold."""
        if self.copy:
            return
        try:
            remaining = self._decoder.decode(None)
        except av.error.FFmpegError:
            remaining = []
        for frame in remaining:
            self._encode(frame)
        self._encode(None)
        self._container.mux(self.stream.encode(None))
