from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest

from streamgan.errors import InputError
from streamgan.media import AudioPacket, VideoFrame, VideoReader, probe
from tests.media.conftest import VFR_PTS, VFR_TIME_BASE
from tests.media.synth import (
    garble_video_packets,
    make_audio_only,
    make_video,
    picture,
    read_index,
)


def frames_of(reader: VideoReader) -> list[VideoFrame]:
    return [item for item in reader if isinstance(item, VideoFrame)]


# -- basics -------------------------------------------------------------------------


@pytest.mark.parametrize("threaded", [True, False])
def test_reads_every_frame_in_order_with_its_timestamp(h264_aac_mp4: Path, threaded: bool) -> None:
    with VideoReader(h264_aac_mp4, threaded=threaded) as reader:
        info = reader.info
        frames = frames_of(reader)
    assert [f.index for f in frames] == list(range(20))
    assert [read_index(f.image) for f in frames] == list(range(20))
    assert [f.pts for f in frames] == [i * 1024 for i in range(20)]  # mp4 time base 1/10240
    assert all(f.time_base == Fraction(1, 10240) for f in frames)
    assert frames[5].time == pytest.approx(0.5)
    assert frames[0].image.shape == (48, 64, 3) and frames[0].image.dtype == np.uint8
    assert reader.frames_read == 20
    assert (info.width, info.height, info.rotation) == (64, 48, 0)
    assert info.codec == "h264" and info.audio_codec == "aac"
    assert info.average_rate == 10 and info.frame_count == 20
    assert info.duration == pytest.approx(2.0)
    assert reader.warnings == []


def test_pixels_match_what_was_encoded(long_mp4: Path) -> None:
    with VideoReader(long_mp4) as reader:
        for frame in frames_of(reader):
            expected = picture(frame.index, 160, 120).astype(np.float64)
            mse = np.mean((frame.image.astype(np.float64) - expected) ** 2)
            assert 10 * np.log10(255**2 / mse) > 30


def test_audio_packets_come_interleaved_in_demux_order(h264_aac_mp4: Path) -> None:
    with av.open(str(h264_aac_mp4)) as container:
        demux_order = [
            p.stream.type
            for p in container.demux(container.streams.video[0], container.streams.audio[0])
            if p.size
        ]
    with VideoReader(h264_aac_mp4) as reader:
        audio = reader.audio_stream
        assert audio is not None and audio.codec_context.name == "aac"
        items = list(reader)
    packets = [i for i in items if isinstance(i, AudioPacket)]
    assert len(packets) == demux_order.count("audio")
    # Frames come out of the decoder a little after their packets went in, but the audio
    # never gets bunched up at the end: the first packet arrives before the 3rd frame.
    first_audio = next(k for k, i in enumerate(items) if isinstance(i, AudioPacket))
    assert first_audio < 3
    assert all(p.packet.size > 0 for p in packets)


def test_audio_can_be_left_out(h264_aac_mp4: Path) -> None:
    with VideoReader(h264_aac_mp4, audio=False) as reader:
        assert reader.audio_stream is None
        assert reader.info.audio_codec == "aac"  # still described
        assert all(isinstance(i, VideoFrame) for i in reader)


def test_variable_frame_rate_timestamps_are_kept(vfr_mp4: Path) -> None:
    with VideoReader(vfr_mp4) as reader:
        assert reader.info.time_base == VFR_TIME_BASE
        frames = frames_of(reader)
    assert [f.pts for f in frames] == VFR_PTS
    assert [read_index(f.image) for f in frames] == list(range(len(VFR_PTS)))
    assert frames[3].time == pytest.approx(4000 / 12800)


def test_stream_without_timestamps_gets_them_from_the_frame_rate(media_dir: Path) -> None:
    raw = media_dir / "raw.h264"
    with av.open(str(raw), "w", format="h264") as out:
        stream = out.add_stream("libx264", rate=10, options={"preset": "ultrafast"})
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for i in range(6):
            frame = av.VideoFrame.from_ndarray(picture(i), format="rgb24")
            frame.pts = i
            out.mux(stream.encode(frame))
        out.mux(stream.encode())
    with VideoReader(raw) as reader:
        frames = frames_of(reader)
    assert [read_index(f.image) for f in frames] == list(range(6))
    assert [f.time for f in frames] == pytest.approx([i / 10 for i in range(6)])
    assert all(isinstance(f.pts, int) for f in frames)


def test_probe_describes_without_iterating(h264_aac_mp4: Path) -> None:
    info = probe(h264_aac_mp4)
    assert (info.width, info.height, info.codec) == (64, 48, "h264")
    assert info.path == h264_aac_mp4


def test_can_only_be_iterated_once(h264_aac_mp4: Path) -> None:
    reader = VideoReader(h264_aac_mp4)
    list(reader)
    with pytest.raises(RuntimeError):
        iter(reader)


# -- codecs and containers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "codec", "pix_fmt"),
    [
        ("vp9.webm", "libvpx-vp9", "yuv420p"),
        ("mpeg4.avi", "mpeg4", "yuv420p"),
        ("mjpeg.avi", "mjpeg", "yuvj420p"),
        ("mjpeg.mov", "mjpeg", "yuvj420p"),
        ("hevc.mkv", "libx265", "yuv420p"),
        ("h264.mkv", "libx264", "yuv420p"),
    ],
)
def test_decodes_common_codecs(media_dir: Path, name: str, codec: str, pix_fmt: str) -> None:
    path = make_video(media_dir / name, codec=codec, pix_fmt=pix_fmt, frames=12)
    with VideoReader(path) as reader:
        frames = frames_of(reader)
    assert [read_index(f.image) for f in frames] == list(range(12))
    times = [f.time for f in frames]
    assert times == sorted(times)
    assert times[-1] - times[0] == pytest.approx(1.1, abs=0.01)


def test_mpeg4_with_b_frames_in_avi(media_dir: Path) -> None:
    path = make_video(media_dir / "mpeg4_bf.avi", codec="mpeg4", frames=12, options={"bf": "2"})
    with VideoReader(path) as reader:
        frames = frames_of(reader)
    assert [read_index(f.image) for f in frames] == list(range(12))
    stamps = [f.pts for f in frames]
    assert all(isinstance(p, int) for p in stamps)
    assert stamps == sorted(set(stamps), key=lambda p: p or 0)  # increasing, no duplicates


# -- rotation -------------------------------------------------------------------------


def marked(index: int) -> npt.NDArray[np.uint8]:
    """Upright 64x48 picture with a red bar along its top edge."""
    img = picture(index, 64, 48)
    img[:5] = (255, 0, 0)
    return img


@pytest.mark.parametrize("rotation", [90, 180, 270])
def test_rotated_video_comes_out_upright(media_dir: Path, rotation: int) -> None:
    path = make_video(
        media_dir / f"rot{rotation}.mp4",
        frames=4,
        rotation=rotation,
        images=[marked(i) for i in range(4)],
    )
    with VideoReader(path) as reader:
        info = reader.info
        frames = frames_of(reader)
    assert info.rotation == rotation
    assert (info.width, info.height) == (64, 48)
    if rotation in (90, 270):
        assert (info.coded_width, info.coded_height) == (48, 64)
    image = frames[0].image
    assert image.shape == (48, 64, 3)
    top, rest = image[:4].astype(int), image[8:].astype(int)
    assert top[..., 0].mean() > 200 and top[..., 1].mean() < 60  # red bar at the top
    assert (rest[..., 0] - rest[..., 1] > 150).mean() < 0.02  # and nowhere else
    assert [read_index(f.image) for f in frames] == [0, 1, 2, 3]


def test_rotation_direction_agrees_with_opencv(media_dir: Path) -> None:
    """OpenCV's own FFmpeg build applies the display matrix independently of our code."""
    path = make_video(
        media_dir / "rot90_cv.mp4", frames=2, rotation=90, images=[marked(0), marked(1)]
    )
    cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    cap.set(cv2.CAP_PROP_ORIENTATION_AUTO, 1)
    ok, bgr = cap.read()
    cap.release()
    assert ok
    with VideoReader(path) as reader:
        ours = frames_of(reader)[0].image
    assert ours.shape == bgr.shape
    assert np.abs(ours.astype(int) - bgr[..., ::-1].astype(int)).mean() < 3


def test_max_side_applies_to_the_upright_picture(media_dir: Path) -> None:
    path = make_video(media_dir / "rot90_big.mp4", frames=3, size=(120, 160), rotation=90)
    with VideoReader(path, max_side=80) as reader:
        info = reader.info
        frames = frames_of(reader)
    assert (info.width, info.height) == (60, 80)
    assert (info.coded_width, info.coded_height) == (160, 120)
    assert frames[0].image.shape == (80, 60, 3)
    assert [read_index(f.image) for f in frames] == [0, 1, 2]


# -- scaling --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("max_side", "expected"),
    [
        (64, (64, 48)),
        (100, (100, 76)),
        (50, (50, 38)),
        (51, (50, 38)),
        (160, (160, 120)),
        (1000, (160, 120)),
    ],
)
def test_max_side_downscales_keeping_aspect_and_even_sizes(
    long_mp4: Path, max_side: int, expected: tuple[int, int]
) -> None:
    with VideoReader(long_mp4, max_side=max_side) as reader:
        info = reader.info
        frame = frames_of(reader)[7]
    assert (info.width, info.height) == expected
    assert info.width % 2 == 0 and info.height % 2 == 0
    assert abs(info.width / info.height - 160 / 120) < 0.05
    assert frame.image.shape == (expected[1], expected[0], 3)
    assert read_index(frame.image) == 7


# -- bad input ------------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"driver\.mp4: no such file"):
        VideoReader(tmp_path / "driver.mp4")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="is a directory"):
        VideoReader(tmp_path)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "x.mp4").write_bytes(b"")
    with pytest.raises(InputError, match=r"x\.mp4: empty file"):
        VideoReader(tmp_path / "x.mp4")


def test_text_file_named_mp4(tmp_path: Path) -> None:
    (tmp_path / "notes.mp4").write_text("shopping list: milk, eggs\n" * 20)
    with pytest.raises(InputError, match=r"notes\.mp4: not a video file \(FFmpeg could not read"):
        VideoReader(tmp_path / "notes.mp4")


def test_audio_only_file(tmp_path: Path) -> None:
    path = make_audio_only(tmp_path / "song.m4a")
    with pytest.raises(InputError, match=r"song\.m4a: has no video stream"):
        VideoReader(path)
    with pytest.raises(InputError, match="has no video stream"):
        probe(path)


def test_mp4_cut_before_its_index_is_rejected(tmp_path: Path, long_mp4: Path) -> None:
    """FFmpeg writes the index (moov) last: 60% of such a file has no index at all."""
    data = long_mp4.read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with pytest.raises(InputError, match=r"cut\.mp4: damaged or incomplete MP4"):
        VideoReader(cut)


@pytest.mark.parametrize("name", ["faststart.mp4", "plain.mkv"])
def test_truncated_file_reads_shorter_with_a_warning(tmp_path: Path, name: str) -> None:
    opts = {"movflags": "+faststart"} if name.endswith(".mp4") else None
    full = make_video(tmp_path / f"full_{name}", frames=30, size=(160, 120), container_options=opts)
    data = full.read_bytes()
    cut = tmp_path / name
    cut.write_bytes(data[: int(len(data) * 0.6)])
    with VideoReader(cut) as reader:
        frames = frames_of(reader)
    assert 5 < len(frames) < 30
    assert [read_index(f.image) for f in frames] == list(range(len(frames)))
    assert len(reader.warnings) == 1 and "truncated" in reader.warnings[0]
    assert name in reader.warnings[0]


@pytest.mark.parametrize("threaded", [True, False])
def test_damage_to_the_end_is_read_up_to_it_with_a_warning(
    tmp_path: Path, long_mp4: Path, threaded: bool
) -> None:
    bad = garble_video_packets(long_mp4, tmp_path / "garbled.mkv", from_packet=12)
    with VideoReader(bad, threaded=threaded) as reader:
        frames = frames_of(reader)
    assert 0 < len(frames) <= 12
    assert [read_index(f.image) for f in frames] == list(range(len(frames)))
    assert reader.frames_lost == 30 - len(frames)
    assert len(reader.warnings) == 1
    assert f"{reader.frames_lost} frames lost" in reader.warnings[0]
    assert "Invalid data found when processing input" in reader.warnings[0]


@pytest.mark.parametrize("threaded", [True, False])
def test_a_damaged_block_midway_is_skipped_and_reading_goes_on(
    tmp_path: Path, threaded: bool
) -> None:
    """A bad stretch costs its own frames only: the rest keeps its pictures, timestamps
    and audio (the old reader stopped there, cutting the output and its sound)."""
    src = make_video(tmp_path / "a.mp4", frames=60, size=(160, 120), audio="aac")
    bad = garble_video_packets(src, tmp_path / "damaged.mkv", from_packet=12, until_packet=16)
    with VideoReader(bad, threaded=threaded) as reader:
        items = list(reader)
    frames = [i for i in items if isinstance(i, VideoFrame)]
    audio = [i for i in items if isinstance(i, AudioPacket)]
    indices = [read_index(f.image) for f in frames]
    assert indices[:12] == list(range(12)) and indices[-40:] == list(range(20, 60))
    start = frames[0].time  # the remux may shift the whole file by an audio priming delay
    assert all(f.time - start == pytest.approx(read_index(f.image) / 10) for f in frames[-40:])
    assert 52 <= len(frames) <= 56 and reader.frames_lost == 60 - len(frames)
    with VideoReader(src) as clean:
        assert len(audio) == sum(isinstance(i, AudioPacket) for i in clean)
    assert len(reader.warnings) == 1 and f"{reader.frames_lost} frames lost" in reader.warnings[0]


def test_undecodable_packets_before_the_first_picture_are_skipped(tmp_path: Path) -> None:
    """Like a recording that starts mid-GOP: the decodable part is still read."""
    src = make_video(tmp_path / "mjpeg.avi", codec="mjpeg", pix_fmt="yuvj420p", frames=12)
    bad = garble_video_packets(src, tmp_path / "bad_start.avi", from_packet=0, until_packet=3)
    with VideoReader(bad) as reader:
        frames = frames_of(reader)
    assert [read_index(f.image) for f in frames] == list(range(3, 12))
    assert frames[0].time == pytest.approx(0.3)
    assert reader.warnings == []


def test_nothing_decodable_is_an_input_error(tmp_path: Path, long_mp4: Path) -> None:
    bad = garble_video_packets(long_mp4, tmp_path / "garbage.mkv", from_packet=0)
    with pytest.raises(InputError, match=r"garbage\.mkv: cannot decode video"):
        VideoReader(bad)


def test_invalid_arguments(h264_aac_mp4: Path) -> None:
    with pytest.raises(ValueError):
        VideoReader(h264_aac_mp4, max_side=0)
    with pytest.raises(ValueError):
        VideoReader(h264_aac_mp4, queue_size=0)


# -- threads --------------------------------------------------------------------------


def test_breaking_out_early_stops_the_thread_promptly(long_mp4: Path) -> None:
    before = threading.active_count()
    reader = VideoReader(long_mp4, queue_size=2)
    for item in reader:
        if isinstance(item, VideoFrame) and item.index == 2:
            time.sleep(0.2)  # let the decoder fill the queue and block on it
            break
    started = time.monotonic()
    reader.close()
    assert time.monotonic() - started < 1.0
    assert reader._thread is not None and not reader._thread.is_alive()
    assert threading.active_count() == before
    with pytest.raises(RuntimeError, match="closed"):
        iter(reader)


def test_generator_exit_closes_the_reader(long_mp4: Path) -> None:
    reader = VideoReader(long_mp4, queue_size=1)
    for _ in reader:
        break  # the for-loop drops its iterator: that alone must stop the thread
    assert reader._thread is not None
    reader._thread.join(1.0)
    assert not reader._thread.is_alive()
    assert reader._container is None


def test_close_inside_the_loop(long_mp4: Path) -> None:
    reader = VideoReader(long_mp4, queue_size=2)
    seen = 0
    for item in reader:
        seen += isinstance(item, VideoFrame)
        if seen == 3:
            reader.close()
    assert seen == 3
    assert reader._thread is not None and not reader._thread.is_alive()


def test_errors_in_the_decoder_thread_reach_the_consumer(long_mp4: Path) -> None:
    reader = VideoReader(long_mp4, queue_size=2)
    convert = reader._convert
    calls = 0

    def failing(frame: av.VideoFrame) -> npt.NDArray[np.uint8]:
        nonlocal calls
        calls += 1
        if calls == 6:
            raise RuntimeError("converter exploded")
        return convert(frame)

    reader._convert = failing  # type: ignore[assignment]
    got = 0
    with pytest.raises(RuntimeError, match="converter exploded"):
        for item in reader:
            got += isinstance(item, VideoFrame)
    assert got == 5
    assert reader._thread is not None and not reader._thread.is_alive()
