"""C2PA manifests: signed offline into every output, read back with an honest verdict."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import av
import c2pa
import numpy as np
import pytest

from streamgan import __version__
from streamgan.config import ENV_CONFIG_DIR
from streamgan.errors import InputError, OutputError
from streamgan.safety.provenance import (
    CONSENT_LABEL,
    TRAINED_ALGORITHMIC_MEDIA,
    WATERMARK_ALG,
    ProvenanceClaim,
    read_manifest,
    sign_video,
    supports,
)
from streamgan.safety.signing import init_identity

CLAIM = ProvenanceClaim(watermark_payload="00ff3A5c", consent_record_id="consent-42",
                        consent_subject="Grace", consent_signer="ed25519:0123abcd",
                        title="out.mp4")


def _write_clip(path: Path, frames: int = 4, audio: bool = False, **options: str) -> Path:
    """A tiny clip as streamgan writes them: H.264 yuv420p, moov first in mp4/mov."""
    with av.open(str(path), "w", container_options=options) as container:
        video = container.add_stream("libx264", rate=25)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        sound = container.add_stream("aac", rate=48000) if audio else None
        for i in range(frames):
            image = np.full((48, 64, 3), 40 * i, np.uint8)
            image[:, : 8 * (i + 1)] = 255
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = i
            container.mux(video.encode(frame))
        container.mux(video.encode(None))
        if sound is not None:
            samples = np.zeros((1, 48000 * frames // 25), np.float32)
            chunk = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            chunk.sample_rate, chunk.pts = 48000, 0
            container.mux(sound.encode(chunk))
            container.mux(sound.encode(None))
    return path


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("clips")
    _write_clip(folder / "clip.mp4", movflags="+faststart")
    _write_clip(folder / "clip.mov", movflags="+faststart")
    _write_clip(folder / "audio.mp4", audio=True, movflags="+faststart")
    _write_clip(folder / "clip.mkv")
    return folder


@pytest.fixture()
def clip(clips: Path) -> Path:
    return clips / "clip.mp4"


def _boxes(data: bytes) -> dict[str, tuple[int, int]]:
    """Top-level ISO BMFF boxes: type -> (offset, size)."""
    boxes: dict[str, tuple[int, int]] = {}
    offset = 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset:offset + 8])
        boxes.setdefault(kind.decode("latin-1"), (offset, size))
        offset += size or len(data)
    return boxes


def _frames(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [f.to_ndarray().tobytes() for f in container.decode(video=0)]


def _store(path: Path) -> dict[str, object]:
    """The library's own view of the manifest, for what ManifestReport leaves out."""
    offline = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
    with c2pa.Context.from_dict(offline) as context, \
            c2pa.Reader(str(path), None, None, context) as reader:
        store = json.loads(reader.json())
    assert isinstance(store, dict)
    return store


def _assertions(path: Path) -> dict[str, dict[str, object]]:
    store = _store(path)
    manifest = store["manifests"][store["active_manifest"]]  # type: ignore[index]
    return {a["label"]: a["data"] for a in manifest["assertions"]}


def test_sign_then_read_round_trips_everything(clip: Path, tmp_path: Path) -> None:
    before = hashlib.sha256(clip.read_bytes()).hexdigest()
    out = tmp_path / "out.mp4"
    sign_video(clip, out, CLAIM)
    assert hashlib.sha256(clip.read_bytes()).hexdigest() == before  # src untouched

    report = read_manifest(out)
    assert report.present
    assert report.state == "Trusted", report.issues
    assert report.issues == []
    assert report.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    assert report.action == "c2pa.created"
    assert report.software_agent == f"streamgan {__version__}"
    assert report.watermark_payload == "00ff3a5c"
    assert report.consent_record_id == "consent-42"
    assert json.loads(json.dumps(report.to_json())) == report.to_json()
    assert _frames(out) == _frames(clip)  # the picture is unchanged, only a box is added

    assertions = _assertions(out)
    actions = [a["action"] for a in assertions["c2pa.actions.v2"]["actions"]]  # type: ignore
    assert actions == ["c2pa.created", "c2pa.watermarked.bound"]
    assert assertions["c2pa.soft-binding"]["alg"] == WATERMARK_ALG
    assert assertions[CONSENT_LABEL] == {"record_id": "consent-42", "subject": "Grace",
                                         "signer_fingerprint": "ed25519:0123abcd"}
    store = _store(out)
    manifest = store["manifests"][store["active_manifest"]]  # type: ignore[index]
    assert manifest["title"] == "out.mp4"
    assert manifest["claim_generator_info"][0]["name"] == "streamgan"


def test_the_first_signature_creates_the_identity(clip: Path, tmp_path: Path,
                                                  config_home: Path) -> None:
    assert not (config_home / "signing").exists()
    sign_video(clip, tmp_path / "out.mp4", ProvenanceClaim())
    assert (config_home / "signing" / "signer.pem").is_file()
    assert (config_home / "signing" / "root-ca.key").stat().st_mode & 0o077 == 0


def test_a_plain_claim_declares_no_watermark_or_consent(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    sign_video(clip, out, ProvenanceClaim())
    report = read_manifest(out)
    assert report.state == "Trusted"
    assert (report.watermark_payload, report.consent_record_id) == (None, None)
    assert set(_assertions(out)) == {"c2pa.actions.v2", "c2pa.hash.bmff.v3"}


def test_valid_but_not_trusted_where_the_root_is_unknown(
        clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out.mp4"
    sign_video(clip, out, CLAIM)
    monkeypatch.setenv(ENV_CONFIG_DIR, str(tmp_path / "elsewhere"))  # no root at all
    report = read_manifest(out)
    assert (report.present, report.state) == (True, "Valid")
    assert any(i.startswith("signingCredential.untrusted") for i in report.issues)
    assert report.consent_record_id == "consent-42"

    init_identity()  # someone else's root: still only Valid
    assert read_manifest(out).state == "Valid"


def test_changing_the_media_after_signing_is_invalid(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    sign_video(clip, out, CLAIM)
    data = bytearray(out.read_bytes())
    offset, size = _boxes(bytes(data))["mdat"]
    for i in range(offset + size // 2, offset + size // 2 + 4):
        data[i] ^= 0xFF
    out.write_bytes(bytes(data))
    report = read_manifest(out)
    assert (report.present, report.state) == (True, "Invalid")
    assert any(i.startswith("assertion.bmffHash.mismatch") for i in report.issues)


def test_a_damaged_manifest_is_invalid_not_an_error(clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    sign_video(clip, out, CLAIM)
    data = bytearray(out.read_bytes())
    offset, size = _boxes(bytes(data))["uuid"]  # the C2PA manifest store
    for i in range(offset + 64, offset + size - 64, 97):
        data[i] ^= 0xFF
    out.write_bytes(bytes(data))
    report = read_manifest(out)
    assert (report.present, report.state) == (True, "Invalid")
    assert report.issues


def test_re_encoding_strips_the_manifest(clip: Path, tmp_path: Path) -> None:
    signed = tmp_path / "signed.mp4"
    sign_video(clip, signed, CLAIM)
    copy = tmp_path / "copy.mp4"
    with av.open(str(signed)) as source, av.open(str(copy), "w") as target:
        stream = target.add_stream("libx264", rate=25)
        stream.width, stream.height, stream.pix_fmt = 64, 48, "yuv420p"
        for frame in source.decode(video=0):
            frame.pts = None
            target.mux(stream.encode(frame))
        target.mux(stream.encode(None))
    assert read_manifest(copy) == read_manifest(clip)
    assert read_manifest(copy).present is False
    assert read_manifest(copy).state is None


def test_an_unsigned_file_has_no_manifest(clip: Path) -> None:
    report = read_manifest(clip)
    assert (report.present, report.state, report.action, report.issues) == (
        False, None, None, [])


def test_unreadable_files_raise_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        read_manifest(tmp_path / "missing.mp4")
    with pytest.raises(InputError):
        read_manifest(tmp_path)
    for name, data in (("empty.mp4", b""), ("text.mp4", b"not a video at all " * 20)):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(InputError, match=name):
            read_manifest(tmp_path / name)


def test_matroska_cannot_carry_a_manifest(clips: Path, tmp_path: Path) -> None:
    mkv = clips / "clip.mkv"
    assert supports(Path("out.mp4")) and supports(Path("OUT.MOV"))
    assert not supports(mkv) and not supports(Path("out.webm"))
    with pytest.raises(OutputError, match=r"\.mkv"):
        sign_video(mkv, tmp_path / "out.mkv", CLAIM)
    assert not (tmp_path / "out.mkv").exists()
    report = read_manifest(mkv)
    assert (report.present, report.state) == (False, None)


def test_quicktime_and_audio_keep_their_layout(clips: Path, tmp_path: Path) -> None:
    for name in ("clip.mov", "audio.mp4"):
        out = tmp_path / name
        sign_video(clips / name, out, CLAIM)
        assert read_manifest(out).state == "Trusted"
        order = list(_boxes(out.read_bytes()))
        assert order.index("moov") < order.index("mdat")  # still streamable
        with av.open(str(out)) as c, av.open(str(clips / name)) as original:
            assert [s.type for s in c.streams] == [s.type for s in original.streams]
            assert sum(1 for _ in c.demux()) == sum(1 for _ in original.demux())


def test_an_edit_names_its_parent(clips: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    claim = ProvenanceClaim(action="c2pa.edited", parent=clips / "clip.mkv")
    sign_video(clips / "clip.mp4", out, claim)
    report = read_manifest(out)
    assert (report.state, report.action) == ("Trusted", "c2pa.edited")
    assert report.digital_source_type == TRAINED_ALGORITHMIC_MEDIA
    store = _store(out)
    manifest = store["manifests"][store["active_manifest"]]  # type: ignore[index]
    assert [i["relationship"] for i in manifest["ingredients"]] == ["parentOf"]


@pytest.mark.parametrize("claim, message", [
    (ProvenanceClaim(action="c2pa.opened"), "action"),
    (ProvenanceClaim(action="c2pa.edited"), "parent"),
    (ProvenanceClaim(parent=Path("driver.mp4")), "parent"),
    (ProvenanceClaim(watermark_payload="xyz"), "hex"),
    (ProvenanceClaim(watermark_payload=""), "hex"),
])
def test_claims_c2pa_would_reject_are_refused_up_front(
        clip: Path, tmp_path: Path, claim: ProvenanceClaim, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sign_video(clip, tmp_path / "out.mp4", claim)
    assert not (tmp_path / "out.mp4").exists()


def test_signing_failures_are_output_errors_and_leave_nothing(
        clip: Path, tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="overwrite"):
        sign_video(clip, clip, CLAIM)
    with pytest.raises(OutputError, match="cannot write"):
        sign_video(clip, tmp_path / "no" / "such" / "dir.mp4", CLAIM)
    with pytest.raises(InputError, match="cannot read"):
        sign_video(tmp_path / "missing.mp4", tmp_path / "out.mp4", CLAIM)
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all " * 20)
    with pytest.raises(OutputError, match="C2PA"):
        sign_video(junk, tmp_path / "out.mp4", CLAIM)
    assert not (tmp_path / "out.mp4").exists()
