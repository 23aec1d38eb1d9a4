from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest

from streamgan.errors import OutputError
from streamgan.media import AudioPacket, VideoFrame, VideoReader, VideoWriter
from tests.media.conftest import VFR_PTS, VFR_TIME_BASE
from tests.media.synth import (
    audio_packets,
    decode_audio,
    make_video,
    picture,
    psnr,
    read_index,
    video_timestamps,
)

TB = Fraction(1, 12800)


def transcode(src: Path, dst: Path, *, threaded: bool = True, yuv: bool = False) -> None:
    """What the pipeline does, minus the face: read, write every frame and audio packet."""
    with VideoReader(src, threaded=threaded) as reader:
        info = reader.info
        with VideoWriter(
            dst,
            width=info.width,
            height=info.height,
            time_base=info.time_base,
            rate=info.average_rate,
            audio_from=reader.audio_stream,
            threaded=threaded,
        ) as writer:
            for item in reader:
                if isinstance(item, AudioPacket):
                    writer.write_audio(item)
                elif yuv:
                    writer.write(to_yuv(item.image), item.pts)
                else:
                    writer.write_rgb(item.image, item.pts)


def to_yuv(rgb: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    return np.asarray(frame.to_ndarray(), dtype=np.uint8)


def read_frames(path: Path) -> list[VideoFrame]:
    with VideoReader(path, threaded=False) as reader:
        return [i for i in reader if isinstance(i, VideoFrame)]


# -- video ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ext", "threaded", "yuv"),
    [
        (".mp4", True, False),
        (".mp4", False, True),
        (".mov", True, True),
        (".mkv", False, False),
    ],
)
def test_round_trip_keeps_count_timestamps_and_pixels(
    tmp_path: Path, ext: str, threaded: bool, yuv: bool
) -> None:
    out = tmp_path / f"out{ext}"
    pts = [i * 1280 for i in range(15)]  # 10 fps in 1/12800
    images = [picture(i, 160, 120) for i in range(15)]
    with VideoWriter(
        out, width=160, height=120, time_base=TB, rate=Fraction(10), threaded=threaded, crf=18
    ) as writer:
        for image, stamp in zip(images, pts, strict=True):
            if yuv:
                writer.write(to_yuv(image), stamp)
            else:
                writer.write_rgb(image, stamp)
    assert writer.frames_written == 15
    frames = read_frames(out)
    assert len(frames) == 15
    times = [f.time for f in frames]
    assert times == pytest.approx([p * float(TB) for p in pts], abs=1e-3)  # mkv stores ms
    if ext != ".mkv":
        assert [f.pts for f in frames] == pts
    for frame, image in zip(frames, images, strict=True):
        assert psnr(frame.image, image) > 30
    assert sorted(os.listdir(tmp_path)) == [out.name]


def test_variable_frame_rate_survives_read_write_read(tmp_path: Path, vfr_mp4: Path) -> None:
    out = tmp_path / "vfr_out.mp4"
    transcode(vfr_mp4, out)
    time_base, pts = video_timestamps(out)
    assert time_base == VFR_TIME_BASE
    assert pts == VFR_PTS
    assert [read_index(f.image) for f in read_frames(out)] == list(range(len(VFR_PTS)))


def test_missing_pts_continue_at_the_frame_rate(tmp_path: Path) -> None:
    out = tmp_path / "counter.mp4"
    with VideoWriter(out, width=64, height=48, time_base=TB, rate=Fraction(25)) as writer:
        writer.write_rgb(picture(0), 0)
        for i in range(1, 4):
            writer.write_rgb(picture(i), None)
    assert video_timestamps(out)[1] == [0, 512, 1024, 1536]


def test_non_increasing_pts_are_nudged_not_fatal(tmp_path: Path) -> None:
    out = tmp_path / "dup.mp4"
    with VideoWriter(out, width=64, height=48, time_base=TB, rate=None) as writer:
        for i, stamp in enumerate([0, 1000, 1000, 900, 3000]):
            writer.write_rgb(picture(i), stamp)
    assert video_timestamps(out)[1] == [0, 1000, 1001, 1002, 3000]


def test_odd_size_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        VideoWriter(tmp_path / "x.mp4", width=63, height=48, time_base=TB, rate=None)
    assert os.listdir(tmp_path) == []


def test_wrong_picture_shape_is_rejected(tmp_path: Path) -> None:
    with VideoWriter(tmp_path / "x.mp4", width=64, height=48, time_base=TB, rate=None) as w:
        with pytest.raises(ValueError, match="yuv420p"):
            w.write(np.zeros((48, 64), np.uint8), 0)
        with pytest.raises(ValueError, match="RGB"):
            w.write_rgb(np.zeros((48, 64, 4), np.uint8), 0)
        w.write_rgb(picture(0), 0)


# -- audio ----------------------------------------------------------------------------


def test_aac_is_stream_copied_bit_exact(tmp_path: Path, h264_aac_mp4: Path) -> None:
    out = tmp_path / "copy.mp4"
    transcode(h264_aac_mp4, out)
    assert audio_packets(out) == audio_packets(h264_aac_mp4)
    with av.open(str(out)) as c:
        video, audio = c.streams.video[0], c.streams.audio[0]
        assert audio.codec_context.name == "aac"
        assert video.time_base is not None and audio.time_base is not None
        assert video.duration is not None and audio.duration is not None
        v_end = float(((video.start_time or 0) + video.duration) * video.time_base)
        a_end = float(((audio.start_time or 0) + audio.duration) * audio.time_base)
    assert abs(a_end - v_end) < 0.1  # within one frame at 10 fps


def test_audio_copy_into_mkv(tmp_path: Path, h264_aac_mp4: Path) -> None:
    out = tmp_path / "copy.mkv"
    transcode(h264_aac_mp4, out)
    src, dst = audio_packets(h264_aac_mp4), audio_packets(out)
    assert [data for _, data in dst] == [data for _, data in src]
    # Matroska cannot store AAC's negative start: FFmpeg shifts *both* streams alike.
    shift = dst[0][0] - src[0][0]
    _, v_src = video_timestamps(h264_aac_mp4)
    tb_out, v_dst = video_timestamps(out)
    assert float(v_dst[0] * tb_out) - float(v_src[0] * Fraction(1, 10240)) == pytest.approx(
        shift, abs=0.002
    )


def test_adts_aac_from_mpegts_is_copied(tmp_path: Path, h264_aac_mp4: Path) -> None:
    ts = tmp_path / "in.ts"
    with av.open(str(h264_aac_mp4)) as inp, av.open(str(ts), "w") as out:
        vin, ain = inp.streams.video[0], inp.streams.audio[0]
        vout, aout = out.add_stream_from_template(vin), out.add_stream_from_template(ain)
        for p in inp.demux(vin, ain):
            if p.size:
                p.stream = vout if p.stream.type == "video" else aout
                out.mux(p)
    mp4 = tmp_path / "from_ts.mp4"
    transcode(ts, mp4)
    ts_packets = audio_packets(ts)
    assert all(d[:2] == b"\xff\xf1" for _, d in ts_packets)  # 7-byte ADTS headers, no CRC
    # The muxer's aac_adtstoasc filter strips the headers; the AAC payload is untouched.
    assert [d for _, d in audio_packets(mp4)] == [d[7:] for _, d in ts_packets]


@pytest.mark.parametrize(("codec", "ext"), [("vorbis", ".mkv"), ("pcm_s16le", ".mkv")])
def test_uncopyable_audio_is_transcoded_to_aac_in_sync(
    tmp_path: Path, codec: str, ext: str
) -> None:
    """A 440 Hz burst starts exactly with frame 10 (t = 1.0 s); it must still do so."""
    src = make_video(tmp_path / f"in{ext}", audio=codec, frames=20, burst=(1.0, 1.5))
    out = tmp_path / "out.mp4"
    transcode(src, out, threaded=codec == "vorbis")
    with av.open(str(out)) as c:
        assert c.streams.audio[0].codec_context.name == "aac"

    frames = read_frames(out)
    frame10 = next(f for f in frames if read_index(f.image) == 10)
    assert frame10.time == pytest.approx(1.0, abs=0.002)
    src_start, src_samples = decode_audio(src)
    out_start, out_samples = decode_audio(out)
    rate = 44100

    def onset(start: float, samples: npt.NDArray[np.float64]) -> float:
        return start + int(np.argmax(np.abs(samples) > 0.05)) / rate

    def length(start: float, samples: npt.NDArray[np.float64]) -> float:
        return start + len(samples) / rate

    assert onset(out_start, out_samples) == pytest.approx(frame10.time, abs=0.05)
    assert onset(out_start, out_samples) == pytest.approx(onset(src_start, src_samples), abs=0.01)
    assert out_start == pytest.approx(src_start, abs=0.05)
    assert length(out_start, out_samples) == pytest.approx(length(src_start, src_samples), abs=0.05)


def test_vorbis_into_mkv_is_copied(tmp_path: Path) -> None:
    src = make_video(tmp_path / "in.mkv", audio="vorbis", frames=10)
    out = tmp_path / "out.mkv"
    transcode(src, out)
    assert audio_packets(out) == audio_packets(src)


# -- atomic output --------------------------------------------------------------------


def test_failure_midway_leaves_no_file(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    with pytest.raises(KeyError):
        with VideoWriter(out, width=64, height=48, time_base=TB, rate=Fraction(10)) as writer:
            for i in range(10):
                writer.write_rgb(picture(i), i * 1280)
            raise KeyError("face tracker crashed")
    assert os.listdir(tmp_path) == []


def test_existing_output_is_replaced_only_on_success(tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    out.write_bytes(b"previous good result")
    with pytest.raises(RuntimeError):
        with VideoWriter(out, width=64, height=48, time_base=TB, rate=None) as writer:
            writer.write_rgb(picture(0), 0)
            raise RuntimeError("interrupted")
    assert out.read_bytes() == b"previous good result"
    with VideoWriter(out, width=64, height=48, time_base=TB, rate=None) as writer:
        writer.write_rgb(picture(0), 0)
    assert out.read_bytes() != b"previous good result"
    assert [read_index(f.image) for f in read_frames(out)] == [0]
    assert os.listdir(tmp_path) == ["out.mp4"]


def test_no_frames_is_an_error_and_no_file(tmp_path: Path) -> None:
    out = tmp_path / "empty.mp4"
    with pytest.raises(OutputError, match="no video frames"):
        with VideoWriter(out, width=64, height=48, time_base=TB, rate=None):
            pass
    assert os.listdir(tmp_path) == []


def test_errors_in_the_encoder_thread_reach_the_caller(tmp_path: Path) -> None:
    out = tmp_path / "boom.mp4"
    writer = VideoWriter(out, width=64, height=48, time_base=TB, rate=None, queue_size=2)

    class Exploding:
        def encode(self, frame: object = None) -> list[object]:
            raise RuntimeError("encoder exploded")

    writer._video = Exploding()  # type: ignore[assignment]
    with pytest.raises(RuntimeError, match="encoder exploded"):
        with writer:
            for i in range(50):
                writer.write_rgb(picture(i), i)
    assert writer._thread is not None and not writer._thread.is_alive()
    assert os.listdir(tmp_path) == []


def test_nonexistent_output_directory(tmp_path: Path) -> None:
    out = tmp_path / "nope" / "out.mp4"
    with pytest.raises(OutputError, match=r"out\.mp4: cannot write: directory does not exist"):
        VideoWriter(out, width=64, height=48, time_base=TB, rate=None)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only directories")
def test_unwritable_output_directory(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="not writable"):
            VideoWriter(locked / "out.mp4", width=64, height=48, time_base=TB, rate=None)
    finally:
        locked.chmod(0o700)


def test_unwritable_output_directory_as_any_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_access = os.access
    monkeypatch.setattr(
        os, "access", lambda p, mode: False if Path(p) == tmp_path else real_access(p, mode)
    )
    with pytest.raises(OutputError, match=r"out\.mp4: cannot write: directory is not writable"):
        VideoWriter(tmp_path / "out.mp4", width=64, height=48, time_base=TB, rate=None)


def test_unsupported_extension(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match=r"out\.avi: cannot write: unsupported video format"):
        VideoWriter(tmp_path / "out.avi", width=64, height=48, time_base=TB, rate=None)
    assert os.listdir(tmp_path) == []


def test_output_path_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "out.mp4").mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        VideoWriter(tmp_path / "out.mp4", width=64, height=48, time_base=TB, rate=None)
