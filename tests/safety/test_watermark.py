"""The invisible watermark: payload and ECC, key storage, embedding quality, detection."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

import av
import cv2
import numpy as np
import pytest
from av.video.stream import VideoStream
from numpy.typing import NDArray

from streamgan.errors import InputError
from streamgan.media.yuv import planes
from streamgan.safety.watermark import (
    ENV_WATERMARK_KEY,
    WatermarkDetector,
    WatermarkEmbedder,
    WatermarkKey,
    WatermarkPayload,
    consent_hash,
    detect_file,
    detect_lumas,
)
from streamgan.safety.watermark_ecc import coded_length, conv_encode, viterbi_decode
from streamgan.safety.watermark_payload import MESSAGE_BITS, parse_message
from tests.conftest import SAMPLES

KEY = WatermarkKey.from_bytes(bytes(range(32)))
PAYLOAD = WatermarkPayload(output_id=0xDEADBEEF, consent=consent_hash("consent-42"))


@pytest.fixture(scope="module")
def driver_yuv() -> list[NDArray[np.uint8]]:
    """The first 20 frames of the sample driver (640x360 faces), as yuv420p arrays."""
    with av.open(str(SAMPLES / "driver.mp4")) as container:
        frames = []
        for frame in container.decode(video=0):
            frames.append(np.asarray(frame.to_ndarray(format="yuv420p"), np.uint8))
            if len(frames) == 20:
                break
    return frames


@pytest.fixture(scope="module")
def marked_yuv(driver_yuv: list[NDArray[np.uint8]]) -> list[NDArray[np.uint8]]:
    embedder = WatermarkEmbedder(KEY, PAYLOAD, 640, 360)
    out = [f.copy() for f in driver_yuv]
    for f in out:
        embedder.embed(f)
    return out


def luma(yuv: NDArray[np.uint8]) -> NDArray[np.uint8]:
    return planes(yuv)[0]


def psnr(a: NDArray[np.uint8], b: NDArray[np.uint8]) -> float:
    mse = float(np.mean((a.astype(np.float64) - b) ** 2))
    return 10 * float(np.log10(255**2 / mse))


def h264(frames: list[NDArray[np.uint8]], crf: int,
         preset: str | None = "veryfast") -> list[NDArray[np.uint8]]:
    """Encode yuv420p frames with libx264 in memory and decode the lumas back (``preset``
    None: x264's default, as a re-sharing tool would use)."""
    height, width = frames[0].shape[0] * 2 // 3, frames[0].shape[1]
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=25)
        assert isinstance(stream, VideoStream)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        stream.options = {"crf": str(crf), **({"preset": preset} if preset else {})}
        for i, f in enumerate(frames):
            picture = av.VideoFrame.from_ndarray(f, format="yuv420p")
            picture.pts = i
            out.mux(stream.encode(picture))
        out.mux(stream.encode())
    buffer.seek(0)
    with av.open(buffer, "r") as decoded:
        return [np.asarray(f.to_ndarray(format="yuv420p")[:height], np.uint8)
                for f in decoded.decode(video=0)]


# -- payload and error correction ------------------------------------------------------


def test_payload_round_trips_through_hex_and_bytes() -> None:
    payload = WatermarkPayload.new("record-1")
    assert len(payload.hex) == 16 and payload.version == 1
    assert WatermarkPayload.from_hex(payload.hex) == payload
    assert WatermarkPayload.from_bytes(payload.to_bytes()) == payload
    assert payload.matches_consent("record-1") and not payload.matches_consent("record-2")
    assert WatermarkPayload.new(None).consent == 0
    assert WatermarkPayload.new().output_id != WatermarkPayload.new().output_id
    assert payload.bits().size == 64


def test_payload_rejects_out_of_range_fields_and_bad_hex() -> None:
    with pytest.raises(ValueError):
        WatermarkPayload(output_id=1 << 32)
    with pytest.raises(ValueError):
        WatermarkPayload(output_id=1, consent=1 << 24)
    with pytest.raises(ValueError):
        WatermarkPayload.from_hex("not hex")
    with pytest.raises(ValueError):
        WatermarkPayload.from_hex("0011")


def test_message_carries_a_keyed_mac() -> None:
    bits = PAYLOAD.message_bits(KEY)
    assert bits.size == MESSAGE_BITS
    assert parse_message(bits, KEY) == PAYLOAD
    other = WatermarkKey.from_bytes(bytes(32))
    assert parse_message(bits, other) is None
    flipped = bits.copy()
    flipped[5] ^= 1
    assert parse_message(flipped, KEY) is None


def test_convolutional_code_corrects_bit_errors() -> None:
    rng = np.random.default_rng(7)
    message = PAYLOAD.message_bits(KEY)
    coded = conv_encode(message)
    assert coded.size == coded_length(MESSAGE_BITS) == 282
    hard = 2.0 * coded - 1.0
    assert np.array_equal(viterbi_decode(hard, MESSAGE_BITS), message)
    # 25 flipped bits, spread out (every 11th): hard errors the code must absorb.
    flipped = hard.copy()
    flipped[::11][:25] *= -1
    assert np.array_equal(viterbi_decode(flipped, MESSAGE_BITS), message)
    # Soft values at SNR 1.5 (about 7% of signs wrong) decode too.
    noisy = 1.5 * hard + rng.normal(0.0, 1.0, hard.size)
    assert np.mean((noisy > 0) != (coded == 1)) > 0.03
    assert np.array_equal(viterbi_decode(noisy, MESSAGE_BITS), message)


# -- key -------------------------------------------------------------------------------


def test_key_is_created_once_private_and_reused(config_home: Path) -> None:
    key = WatermarkKey.load_or_create()
    path = config_home / "watermark.key"
    assert path.read_bytes() == key.secret and len(key.secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert WatermarkKey.load_or_create() == key
    assert key.secret.hex() not in repr(key)
    # Two processes creating it at once: the second one adopts the first one's key.
    assert WatermarkKey._create(path) == key
    assert [p.name for p in config_home.iterdir()] == ["watermark.key"]


def test_key_env_override_and_formats(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "org.key"
    shared.write_text(bytes(range(32)).hex() + "\n")
    monkeypatch.setenv(ENV_WATERMARK_KEY, str(shared))
    assert WatermarkKey.load_or_create() == KEY
    monkeypatch.setenv(ENV_WATERMARK_KEY, str(tmp_path / "missing.key"))
    with pytest.raises(InputError):
        WatermarkKey.load_or_create()
    garbage = tmp_path / "garbage.key"
    garbage.write_bytes(b"hello")
    with pytest.raises(InputError):
        WatermarkKey.load(garbage)
    with pytest.raises(ValueError):
        WatermarkKey.from_bytes(b"short")


# -- embedding -------------------------------------------------------------------------


def test_embedding_is_invisible_on_a_face_frame(
        driver_yuv: list[NDArray[np.uint8]], marked_yuv: list[NDArray[np.uint8]]) -> None:
    for original, marked in zip(driver_yuv[:5], marked_yuv[:5], strict=True):
        assert psnr(luma(original), luma(marked)) >= 40.0
        # Chroma is untouched.
        assert np.array_equal(original[360:], marked[360:])
        assert not np.array_equal(luma(original), luma(marked))


@pytest.mark.parametrize("level", [16, 128, 235])
def test_flat_areas_change_by_two_levels_at_most(level: int) -> None:
    yuv = np.full((720 * 3 // 2, 1280), level, np.uint8)
    WatermarkEmbedder(KEY, PAYLOAD, 1280, 720).embed(yuv)
    change = np.abs(luma(yuv).astype(np.int16) - level)
    assert change.max() <= 2
    assert change.mean() > 0.5  # still marked


def test_embedding_a_720p_frame_runs_and_checks_its_input() -> None:
    embedder = WatermarkEmbedder(KEY, PAYLOAD, 1280, 720)
    rng = np.random.default_rng(1)
    yuv = rng.integers(0, 256, (1080, 1280), dtype=np.uint8)
    before = yuv.copy()
    embedder.embed(yuv)
    assert not np.array_equal(yuv[:720], before[:720])
    assert np.array_equal(yuv[720:], before[720:])
    with pytest.raises(ValueError):
        embedder.embed(np.zeros((540, 640), np.uint8))


# -- detection -------------------------------------------------------------------------


def test_marked_frames_give_the_exact_payload(marked_yuv: list[NDArray[np.uint8]]) -> None:
    found = detect_lumas([luma(f) for f in marked_yuv[:3]], KEY, expected=PAYLOAD)
    assert found.present and found.payload == PAYLOAD.hex
    assert found.bit_accuracy == 1.0 and found.confidence >= 0.9
    assert found.frames_used == 3 and found.period == pytest.approx(128, abs=0.5)
    single = detect_lumas([luma(marked_yuv[7])], KEY)
    assert single.payload == PAYLOAD.hex and single.bit_accuracy is None


def test_survives_h264_reencode(marked_yuv: list[NDArray[np.uint8]]) -> None:
    found = detect_lumas(h264(marked_yuv, crf=28), KEY, expected=PAYLOAD)
    assert found.present and found.payload == PAYLOAD.hex
    assert found.bit_accuracy == 1.0
    assert found.raw_bit_accuracy is not None and found.raw_bit_accuracy > 0.9


def test_survives_crop_and_downscale(marked_yuv: list[NDArray[np.uint8]]) -> None:
    lumas = []
    for f in marked_yuv[:4]:
        cropped = luma(f)[31:330, 57:601]  # an uneven crop: the tile phase is unknown
        lumas.append(cv2.resize(cropped, (272, 150), interpolation=cv2.INTER_AREA))
    found = detect_lumas(lumas, KEY)
    assert found.present and found.payload == PAYLOAD.hex


def test_wrong_key_and_unmarked_frames_are_not_present(
        driver_yuv: list[NDArray[np.uint8]], marked_yuv: list[NDArray[np.uint8]]) -> None:
    other = WatermarkKey.from_bytes(b"another organisation's key 12345")
    wrong = detect_lumas([luma(f) for f in marked_yuv[:5]], other)
    assert not wrong.present and wrong.payload is None and wrong.confidence < 0.5
    clean = detect_lumas([luma(f) for f in driver_yuv[:5]], KEY)
    assert not clean.present and clean.confidence < 0.1


def test_no_false_positives_on_unmarked_patches(driver_yuv: list[NDArray[np.uint8]]) -> None:
    """240 single-frame detections on unmarked content: face crops, flips, noise, flat."""
    rng = np.random.default_rng(3)
    patches: list[NDArray[np.uint8]] = []
    for f in driver_yuv:
        y = luma(f)
        for _ in range(10):
            top, left = int(rng.integers(0, 360 - 128)), int(rng.integers(0, 640 - 192))
            patch = y[top:top + 128, left:left + 192]
            patches.append(patch[:, ::-1] if rng.random() < 0.5 else patch)
    patches += [rng.integers(0, 256, (128, 192), dtype=np.uint8) for _ in range(30)]
    patches += [np.full((128, 192), v, np.uint8) for v in range(0, 256, 26)]
    detector = WatermarkDetector(KEY)
    for i, patch in enumerate(patches):
        detector.reset()
        detector.add_luma(patch)
        result = detector.result()
        assert not result.present, f"false positive on patch {i}"
        assert result.confidence < 0.5
    assert len(patches) >= 240


def test_empty_detector_reports_nothing() -> None:
    found = WatermarkDetector(KEY).result()
    assert not found.present and found.frames_used == 0 and found.confidence == 0.0


def test_detect_file_reads_videos_and_images(
        tmp_path: Path, marked_yuv: list[NDArray[np.uint8]]) -> None:
    from fractions import Fraction

    from streamgan.media import VideoWriter

    video = tmp_path / "marked.mp4"
    with VideoWriter(video, width=640, height=360, time_base=Fraction(1, 25),
                     rate=Fraction(25)) as writer:
        for i, f in enumerate(marked_yuv[:10]):
            writer.write(f, i)
    found = detect_file(video, KEY, max_frames=5)
    assert found.present and found.payload == PAYLOAD.hex and found.frames_used == 5

    image = tmp_path / "still.png"
    cv2.imwrite(str(image), cv2.cvtColor(marked_yuv[0], cv2.COLOR_YUV2BGR_I420))
    assert detect_file(image, KEY).payload == PAYLOAD.hex

    with pytest.raises(InputError):
        detect_file(tmp_path / "missing.mp4", KEY)
    assert os.path.exists(video)
