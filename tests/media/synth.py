"""Synthetic test media, written with PyAV.

Every picture carries its frame number as 8 black/white blocks across the
middle band (bit 7 on the left), so tests can check which frame they got,
not just how many. Audio is a 440 Hz tone, optionally only inside a burst
window so sync can be measured on the decoded output.
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av
import av.container
import numpy as np
import numpy.typing as npt
from av.audio.stream import AudioStream
from av.video.stream import VideoStream

Image = npt.NDArray[np.uint8]

AUDIO_RATE = 44100
BITS = 8


def picture(index: int, width: int = 64, height: int = 48) -> Image:
    """RGB picture showing ``index``: soft gradient background plus the 8-bit code band."""
    y, x = np.mgrid[0:height, 0:width]
    img = np.empty((height, width, 3), np.uint8)
    img[..., 0] = (60 + 100 * x / width).astype(np.uint8)
    img[..., 1] = (60 + 100 * y / height).astype(np.uint8)
    img[..., 2] = 90
    top, bottom = round(0.4 * height), round(0.6 * height)
    for bit in range(BITS):
        on = (index >> (BITS - 1 - bit)) & 1
        x0, x1 = bit * width // BITS, (bit + 1) * width // BITS
        img[top:bottom, x0:x1] = 255 if on else 0
    return img


def read_index(img: Image) -> int:
    """Frame number shown by a picture made with :func:`picture` (any scale)."""
    height, width = img.shape[:2]
    luma = img[round(0.45 * height) : round(0.55 * height)].astype(np.float64).mean(axis=2)
    value = 0
    for bit in range(BITS):
        x0 = round((bit + 0.25) * width / BITS)
        x1 = round((bit + 0.75) * width / BITS)
        value = (value << 1) | int(luma[:, x0:x1].mean() > 128)
    return value


def psnr(a: Image, b: Image) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def tone(start: int, count: int, burst: tuple[float, float] | None) -> npt.NDArray[np.float32]:
    """Mono samples ``start .. start+count`` of a 440 Hz tone (only inside ``burst`` if given)."""
    k = np.arange(start, start + count)
    s = 0.3 * np.sin(2 * np.pi * 440 * k / AUDIO_RATE)
    if burst is not None:
        t = k / AUDIO_RATE
        s = np.where((t >= burst[0]) & (t < burst[1]), s, 0.0)
    return np.asarray(s, dtype=np.float32)


def make_video(
    path: Path,
    *,
    codec: str = "libx264",
    frames: int = 20,
    size: tuple[int, int] = (64, 48),
    rate: Fraction = Fraction(10),
    time_base: Fraction | None = None,
    pts: Sequence[int] | None = None,
    pix_fmt: str = "yuv420p",
    audio: str | None = None,
    burst: tuple[float, float] | None = None,
    rotation: int = 0,
    options: dict[str, str] | None = None,
    container_options: dict[str, str] | None = None,
    images: Sequence[Image] | None = None,
) -> Path:
    """Write a small video (+ optional audio track of the same length) and return its path.

    ``size`` is the upright picture size; with ``rotation`` the stored pictures
    are turned the other way and the stream gets a display matrix, like a phone
    video. ``pts`` gives explicit (e.g. irregular) timestamps in ``time_base``.
    """
    width, height = size
    opts = {"preset": "ultrafast"} if codec == "libx264" else {}
    if codec == "libx265":
        opts = {"preset": "ultrafast", "x265-params": "log-level=error"}
    if codec == "libvpx-vp9":
        opts = {"deadline": "realtime", "cpu-used": "8"}
    opts.update(options or {})
    tb = time_base or 1 / rate
    stamps = list(pts) if pts is not None else [round(i / rate / tb) for i in range(frames)]
    with av.open(str(path), "w", container_options=container_options or {}) as out:
        video = out.add_stream(codec, rate=rate, options=opts)
        assert isinstance(video, VideoStream)
        stored_w, stored_h = (height, width) if rotation in (90, 270) else (width, height)
        video.width, video.height, video.pix_fmt = stored_w, stored_h, pix_fmt
        if time_base is not None:
            video.codec_context.time_base = time_base
            video.time_base = time_base
        if rotation:
            video.set_display_rotation(rotation)
        sound: AudioStream | None = None
        if audio is not None:
            added = out.add_stream(audio, rate=AUDIO_RATE, options={"strict": "experimental"})
            assert isinstance(added, AudioStream)
            sound = added
            sound.layout = "stereo"
        end_time = float((stamps[-1] * tb) + 1 / rate)
        written = 0
        for i, stamp in enumerate(stamps):
            upright = images[i] if images is not None else picture(i, width, height)
            stored = np.ascontiguousarray(np.rot90(upright, -(rotation // 90)))
            frame = av.VideoFrame.from_ndarray(stored, format="rgb24")
            frame.pts = stamp
            frame.time_base = tb
            out.mux(video.encode(frame))
            if sound is not None:
                until = float(stamp * tb + 1 / rate) if i + 1 < len(stamps) else end_time
                written = _write_audio(out, sound, written, int(until * AUDIO_RATE), burst)
        out.mux(video.encode())
        if sound is not None:
            out.mux(sound.encode())
    return path


def _write_audio(
    out: av.container.OutputContainer,
    sound: AudioStream,
    written: int,
    until: int,
    burst: tuple[float, float] | None,
) -> int:
    fmt = sound.codec_context.format.name
    chunk = sound.codec_context.frame_size or 1024
    while written < until:
        count = min(chunk, until - written) if sound.codec_context.frame_size == 0 else chunk
        mono = tone(written, count, burst)
        if fmt == "fltp":
            data = np.stack([mono, mono])
        elif fmt == "s16":
            data = (np.stack([mono, mono], 1).reshape(1, -1) * 32767).astype(np.int16)
        else:
            raise ValueError(f"unsupported test audio format {fmt}")
        frame = av.AudioFrame.from_ndarray(data, format=fmt, layout="stereo")
        frame.sample_rate = AUDIO_RATE
        frame.pts = written
        frame.time_base = Fraction(1, AUDIO_RATE)
        out.mux(sound.encode(frame))
        written += count
    return written


def make_audio_only(path: Path, seconds: float = 1.0) -> Path:
    """An AAC-only file (e.g. ``.m4a``)."""
    with av.open(str(path), "w") as out:
        sound = out.add_stream("aac", rate=AUDIO_RATE)
        sound.layout = "stereo"
        _write_audio(out, sound, 0, int(seconds * AUDIO_RATE), None)
        out.mux(sound.encode())
    return path


def garble_video_packets(
    src: Path, dst: Path, from_packet: int, until_packet: int | None = None
) -> Path:
    """Copy ``src`` with video packets ``from_packet`` to ``until_packet`` (excluded; default:
    all the rest) replaced by random bytes.

    The container stays intact, so the damage reaches the decoder (a real decode
    error) instead of stopping the demuxer. An audio track is copied unharmed.
    """
    rng = np.random.default_rng(7)
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        vin = inp.streams.video[0]
        vout = out.add_stream_from_template(vin)
        ain = inp.streams.audio[0] if inp.streams.audio else None
        aout = out.add_stream_from_template(ain) if ain is not None else None
        k = 0
        for packet in inp.demux([s for s in (vin, ain) if s is not None]):
            if not packet.size:
                continue
            if packet.stream.type == "audio":
                packet.stream = aout
                out.mux(packet)
                continue
            if k >= from_packet and (until_packet is None or k < until_packet):
                bad = av.Packet(rng.integers(0, 256, packet.size, dtype=np.uint8).tobytes())
                bad.pts, bad.dts, bad.time_base = packet.pts, packet.dts, packet.time_base
                bad.stream = vout
                out.mux(bad)
            else:
                packet.stream = vout
                out.mux(packet)
            k += 1
    return dst


def decode_audio(path: Path) -> tuple[float, npt.NDArray[np.float64]]:
    """(start time in seconds, mono float samples) of the first audio stream."""
    with av.open(str(path)) as inp:
        stream = inp.streams.audio[0]
        start: float | None = None
        chunks = []
        for frame in inp.decode(stream):
            if start is None:
                start = float(frame.time or 0.0)
            data = frame.to_ndarray().astype(np.float64)
            if frame.format.name.startswith("s16"):
                data = data / 32768.0
            if not frame.format.is_planar:
                data = data.reshape(-1, frame.layout.nb_channels).T
            chunks.append(data[0])
        assert start is not None
        return start, np.concatenate(chunks)


def audio_packets(path: Path) -> list[tuple[float, bytes]]:
    """(pts in seconds, payload) of every audio packet, in demux order."""
    with av.open(str(path)) as inp:
        stream = inp.streams.audio[0]
        tb = stream.time_base
        assert tb is not None
        return [(float((p.pts or 0) * tb), bytes(p)) for p in inp.demux(stream) if p.size]


def video_timestamps(path: Path) -> tuple[Fraction, list[int]]:
    """(time base, presentation timestamps in order) of the first video stream, via PyAV."""
    with av.open(str(path)) as inp:
        stream = inp.streams.video[0]
        assert stream.time_base is not None
        return stream.time_base, [f.pts for f in inp.decode(stream) if f.pts is not None]
