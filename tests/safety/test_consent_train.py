"""Consent to train on a video (scope ``train``): a tag bound to the file's bytes, in a
sidecar, checked by require_training_consent; every refusal told apart, one line each."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import shlex
import shutil
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from streamgan.cli.main import main
from streamgan.errors import InputError
from streamgan.safety.consent import (
    ConsentError,
    ConsentProblem,
    check_file_consent,
    grant_consent,
    grant_file_consent,
    inspect_file_consent,
    is_video,
    require_consent,
    require_training_consent,
)
from streamgan.safety.consent_carrier import read_sidecar, sidecar_path, write_sidecar
from streamgan.safety.consent_file import file_facts
from streamgan.safety.consent_keys import load_private_key
from streamgan.safety.consent_tag import (
    HEAD_BYTES,
    TagFormatError,
    TagKindError,
    file_tag_from_dict,
    sign_tag,
    tag_from_dict,
)
from streamgan.safety.consent_trust import install_trust
from tests.conftest import SAMPLES, one_line_error
from tests.media.synth import make_video
from tests.safety.test_consent_support import SAMPLE_TRUST, Signer, hopper, make_signer, save

UTC = timezone.utc


@pytest.fixture
def video(tmp_path: Path) -> Path:
    """A real video: a copy of the sample driver clip."""
    return Path(shutil.copy(SAMPLES / "driver.mp4", tmp_path / "clip.mp4"))


@pytest.fixture
def other_video(tmp_path: Path) -> Path:
    """Another real video: 10 frames, 64x64, made with PyAV."""
    return make_video(tmp_path / "other.mp4", frames=10, size=(64, 64))


@pytest.fixture
def granted(video: Path, alice: Signer) -> Path:
    """``video`` with Alice's consent to train, 2024-01-01 until 2040-01-01."""
    grant_file_consent(video, alice.key, "Ada Lovelace", ["train"],
                       not_before=date(2024, 1, 1), expires=date(2040, 1, 1))
    return video


@pytest.fixture
def image_tag(tmp_path: Path, alice: Signer) -> Path:
    """An image with Alice's reenact consent in a sidecar (where a video's tag lives)."""
    image = save(tmp_path / "face.png", hopper())
    grant_consent(image, alice.key, "Grace Hopper", ["reenact"], sidecar=True)
    return image


def tags(video: Path) -> list[Any]:
    return [found.data for found in read_sidecar(video)]


def refusal(video: Path, **kwargs: Any) -> ConsentError:
    """The ConsentError require_training_consent raises, after checking its one line."""
    with pytest.raises(ConsentError) as caught:
        require_training_consent(video, **kwargs)
    error = caught.value
    fix = (f"grant it with: streamgan consent grant {shlex.quote(str(video))} --key KEY "
           "--subject NAME --scope train")
    assert "\n" not in str(error)
    assert str(error) in (f"{video}: {error.reason}; {fix}", f"{video}: {error.reason}; or {fix}")
    return error


def trust_json(path: Path, signer: Signer, **fields: object) -> Path:
    path.write_text(json.dumps({"public_key": signer.pub.read_text(), **fields}))
    return path


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# -- granting ------------------------------------------------------------------------------------

def test_grant_then_require_passes(video: Path, alice: Signer) -> None:
    before = video.read_bytes()
    done = grant_file_consent(video, alice.key, "Ada Lovelace", ["train"],
                              expires=date(2040, 1, 1))
    assert video.read_bytes() == before  # the tag never goes into the video
    assert done.written == sidecar_path(video) == video.with_name("clip.mp4.consent.json")
    assert done.replaced is None
    doc = json.loads(done.written.read_text())
    assert doc["format"] == "streamgan-consent-tags" and len(doc["tags"]) == 1
    raw = doc["tags"][0]
    assert raw["file"] == {"sha256": sha256(video), "bytes": len(before),
                           "head_sha256": hashlib.sha256(before[:HEAD_BYTES]).hexdigest()}
    assert "image" not in raw and "face" not in raw and raw["scopes"] == ["train"]

    record = require_training_consent(video, [alice.pub])
    assert record.record_id == done.tag.id
    assert record.subject == "Ada Lovelace" and record.scopes == ("train",)
    assert record.kind == "file" and record.file_sha256 == sha256(video)
    assert record.file_bytes == len(before) and record.signer_name == "alice"
    assert record.location == "sidecar clip.mp4.consent.json"
    assert record.expires == date(2040, 1, 1) and not record.test_only


def test_a_new_grant_replaces_the_old_tag(granted: Path, alice: Signer) -> None:
    first = tags(granted)[0]["id"]
    done = grant_file_consent(granted, alice.key, "Ada Lovelace")
    assert done.replaced == first and [t["id"] for t in tags(granted)] == [done.tag.id]


def test_bytes_are_hashed_in_chunks(tmp_path: Path) -> None:
    big = tmp_path / "big.mp4"
    big.write_bytes(bytes(range(256)) * (5 * 4096 + 3))  # over 5 MiB, not chunk-aligned
    facts = file_facts(big)
    data = big.read_bytes()
    assert facts.sha256 == hashlib.sha256(data).hexdigest() and facts.size == len(data)
    assert facts.head_sha256 == hashlib.sha256(data[:HEAD_BYTES]).hexdigest()


def test_videos_are_known_by_their_ending() -> None:
    assert all(is_video(Path(f"a{s}")) for s in (".mp4", ".MOV", ".mkv", ".webm", ".avi",
                                                  ".m4v"))
    assert not any(is_video(Path(f"a{s}")) for s in (".png", ".jpg", ".webp", ".json"))


def test_grant_refuses_what_a_video_cannot_grant(video: Path, image_tag: Path,
                                                 alice: Signer, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown scope 'reenact' for a video") as caught:
        grant_file_consent(video, alice.key, "Ada Lovelace", ["train", "reenact"])
    assert "\n" not in str(caught.value)
    assert not sidecar_path(video).exists()
    with pytest.raises(InputError, match="unknown scope 'train' for an image"):
        grant_consent(image_tag, alice.key, "Grace Hopper", ["train"])
    with pytest.raises(InputError, match="not a video"):
        grant_file_consent(image_tag, alice.key, "Grace Hopper")
    with pytest.raises(InputError, match="not in the future"):
        grant_file_consent(video, alice.key, "Ada Lovelace", expires=date(2020, 1, 1))
    with pytest.raises(InputError, match="no such file"):
        grant_file_consent(tmp_path / "missing.mp4", alice.key, "Ada Lovelace")
    assert not sidecar_path(video).exists()


# -- refusals ------------------------------------------------------------------------------------

def test_no_sidecar(video: Path, alice: Signer) -> None:
    error = refusal(video, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.NO_TAG
    assert "no clip.mp4.consent.json" in error.reason


def test_empty_sidecar(video: Path, alice: Signer) -> None:
    write_sidecar(video, [])
    error = refusal(video, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.NO_TAG and "empty" in error.reason


def test_bad_signature(granted: Path, alice: Signer) -> None:
    tag = tags(granted)[0]
    signature = bytearray(base64.b64decode(tag["signature"]))
    signature[5] ^= 0x01
    write_sidecar(granted, [{**tag, "signature": base64.b64encode(bytes(signature)).decode()}])
    error = refusal(granted, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.BAD_SIGNATURE and "bad signature" in error.reason


def test_altered_tag(granted: Path, alice: Signer) -> None:
    tag = tags(granted)[0]
    write_sidecar(granted, [{**tag, "expires": "2099-01-01"}])
    assert refusal(granted, extra_trust=[alice.pub]).problem is ConsentProblem.BAD_SIGNATURE


def test_damaged_sidecar(granted: Path, alice: Signer) -> None:
    sidecar_path(granted).write_text("{not json")
    error = refusal(granted, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.BAD_SIGNATURE and "damaged" in error.reason


def test_unknown_signer(granted: Path, tmp_path: Path) -> None:
    mallory = make_signer(tmp_path, "mallory")
    error = refusal(granted, extra_trust=[mallory.pub])
    assert error.problem is ConsentProblem.UNKNOWN_SIGNER
    assert "not a trusted signer" in error.reason


def test_trusted_from_the_config_directory(granted: Path, alice: Signer) -> None:
    install_trust(alice.pub)
    assert require_training_consent(granted).signer_name == "alice"


def test_trust_limited_to_images_does_not_vouch_for_videos(granted: Path, alice: Signer,
                                                           tmp_path: Path) -> None:
    only_images = trust_json(tmp_path / "images.json", alice, images=["ab" * 32])
    error = refusal(granted, extra_trust=[only_images])
    assert error.problem is ConsentProblem.UNKNOWN_SIGNER
    assert "trusted only for other videos" in error.reason


def test_trust_limited_to_files(granted: Path, image_tag: Path, alice: Signer,
                                tmp_path: Path) -> None:
    this_one = trust_json(tmp_path / "this.json", alice, files=[sha256(granted).upper()],
                          test_only=True)
    record = require_training_consent(granted, [this_one])
    assert record.signer_name == "this" and record.test_only
    other = trust_json(tmp_path / "other.json", alice, files=["cd" * 32])
    assert refusal(granted, extra_trust=[other]).problem is ConsentProblem.UNKNOWN_SIGNER
    with pytest.raises(ConsentError) as caught:  # a files-only trust vouches for no image
        require_consent(image_tag, "reenact", extra_trust=[this_one])
    assert caught.value.problem is ConsentProblem.UNKNOWN_SIGNER
    with pytest.raises(InputError, match="not a file hash"):
        require_training_consent(granted, [trust_json(tmp_path / "bad.json", alice,
                                                      files=["xyz"])])


def test_the_public_sample_key_vouches_for_no_video(video: Path) -> None:
    grant_file_consent(video, SAMPLES / "consent" / "sample-signer.key", "Anyone")
    error = refusal(video, extra_trust=[SAMPLE_TRUST])
    assert error.problem is ConsentProblem.UNKNOWN_SIGNER


def test_not_yet_valid_and_expired(granted: Path, alice: Signer) -> None:
    early = refusal(granted, extra_trust=[alice.pub],
                    now=datetime(2023, 12, 31, 23, 59, tzinfo=UTC))
    assert early.problem is ConsentProblem.NOT_YET_VALID and "2024-01-01" in early.reason
    late = refusal(granted, extra_trust=[alice.pub], now=datetime(2040, 1, 1, tzinfo=UTC))
    assert late.problem is ConsentProblem.EXPIRED and "expired on 2040-01-01" in late.reason
    assert require_training_consent(granted, [alice.pub],
                                    datetime(2039, 12, 31, 23, 59, tzinfo=UTC))


def test_scope_not_granted(granted: Path, alice: Signer) -> None:
    """A trusted key could sign a file tag for another scope by hand; it grants no training."""
    tag = file_tag_from_dict(tags(granted)[0])
    other = sign_tag(dataclasses.replace(tag, scopes=("stream",)), load_private_key(alice.key))
    write_sidecar(granted, [other.to_dict()])
    error = refusal(granted, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.SCOPE_NOT_GRANTED
    assert "grants stream, not train" in error.reason
    assert check_file_consent(granted, None, extra_trust=[alice.pub]).scopes == ("stream",)


def test_one_byte_appended(granted: Path, alice: Signer) -> None:
    with open(granted, "ab") as f:
        f.write(b"\0")
    error = refusal(granted, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.BYTES_CHANGED
    assert "the video's bytes changed since consent was granted" in error.reason


def test_bytes_edited_or_cut(granted: Path, alice: Signer) -> None:
    data = bytearray(granted.read_bytes())
    data[len(data) // 2] ^= 0xFF
    granted.write_bytes(bytes(data))
    assert refusal(granted, extra_trust=[alice.pub]).problem is ConsentProblem.BYTES_CHANGED
    granted.write_bytes(bytes(data[:HEAD_BYTES + 100]))
    assert refusal(granted, extra_trust=[alice.pub]).problem is ConsentProblem.BYTES_CHANGED


def test_tag_copied_from_another_video(granted: Path, other_video: Path, alice: Signer) -> None:
    shutil.copy(sidecar_path(granted), sidecar_path(other_video))
    error = refusal(other_video, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.FOREIGN_TAG
    assert "copied onto this video" in error.reason


def test_tag_copied_between_an_image_and_a_video(granted: Path, image_tag: Path,
                                                 other_video: Path, alice: Signer) -> None:
    shutil.copy(sidecar_path(image_tag), sidecar_path(other_video))
    error = refusal(other_video, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.FOREIGN_TAG and "image's pixels" in error.reason
    shutil.copy(sidecar_path(granted), sidecar_path(image_tag))
    with pytest.raises(ConsentError) as caught:
        require_consent(image_tag, "reenact", extra_trust=[alice.pub])
    assert caught.value.problem is ConsentProblem.FOREIGN_TAG
    assert "video's bytes" in caught.value.reason


def test_a_tag_is_never_both_kinds(granted: Path, image_tag: Path) -> None:
    file_tag, image_tag_data = tags(granted)[0], tags(image_tag)[0]
    with pytest.raises(TagKindError):
        tag_from_dict(file_tag)
    with pytest.raises(TagKindError):
        file_tag_from_dict(image_tag_data)
    both = {**image_tag_data, "file": file_tag["file"]}
    for parse in (tag_from_dict, file_tag_from_dict):
        with pytest.raises(TagFormatError, match="unknown field"):
            parse(both)


def test_show_lists_the_tags(granted: Path, alice: Signer) -> None:
    [report] = inspect_file_consent(granted, [alice.pub])
    assert report.signature_valid and report.signer is not None and report.tag is not None
    assert report.tag.kind == "file"


def test_programming_and_input_errors(granted: Path, image_tag: Path, alice: Signer) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        require_training_consent(granted, [alice.pub], datetime(2030, 1, 1))
    with pytest.raises(InputError, match="not a video"):
        require_training_consent(image_tag, [alice.pub])
    with pytest.raises(ValueError, match="unknown consent scope 'train' for an image"):
        require_consent(image_tag, "train", extra_trust=[alice.pub])


# -- command line --------------------------------------------------------------------------------

def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main(["consent", *map(str, argv)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err.strip()


def usage_error(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> str:
    with pytest.raises(SystemExit) as caught:
        main(["consent", *map(str, argv)])
    assert caught.value.code == 2
    return one_line_error(capsys.readouterr().err)


def test_cli_grant_verify_show(video: Path, alice: Signer,
                               capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "grant", video, "--key", alice.key, "--subject", "Ada Lovelace",
                         "--scope", "train", "--expires", "2099-12-31")
    assert code == 0 and err == "" and len(out.splitlines()) == 1
    assert out.startswith("granted consent ") and "clip.mp4.consent.json" in out

    code, out, err = run(capsys, "verify", video, "--scope", "train")
    assert code == 1 and out == ""
    one_line_error(err, "not a trusted signer", "--scope train")

    code, out, err = run(capsys, "verify", video, "--scope", "train", "--trust", alice.pub)
    assert code == 0 and err == "" and len(out.splitlines()) == 1
    assert "holds: Ada Lovelace, video of" in out and "scopes train" in out

    code, out, _ = run(capsys, "show", video, "--trust", alice.pub)
    assert code == 0 and "1 consent tag" in out and f"sha256 {sha256(video)}" in out
    assert "trusted: alice" in out and "signature: valid" in out
    code, out, _ = run(capsys, "show", "--json", video)
    assert code == 0 and json.loads(out)["video"] == str(video)

    with open(video, "ab") as f:
        f.write(b"\0")
    code, out, err = run(capsys, "verify", video, "--trust", alice.pub)
    assert code == 1 and out == ""
    one_line_error(err, "the video's bytes changed since consent was granted")


def test_cli_errors_are_one_line(video: Path, image_tag: Path, alice: Signer, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    line = usage_error(capsys, "grant", video, "--key", alice.key, "--subject", "X",
                       "--scope", "reenact")
    assert "unknown scope 'reenact' for a video" in line
    assert not sidecar_path(video).exists()
    assert "unknown scope 'train' for an image" in usage_error(
        capsys, "verify", image_tag, "--scope", "train")
    assert "--face-index" in usage_error(capsys, "verify", video, "--face-index", "1")
    code, _, err = run(capsys, "verify", video)
    assert code == 1
    one_line_error(err, "no consent tag", "grant it with:")
    code, _, err = run(capsys, "verify", tmp_path / "missing.mp4")
    assert code == 1
    one_line_error(err, "missing.mp4: no such file")
