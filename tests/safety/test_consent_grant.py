"""Granting: the tag goes inside PNG/JPEG (pixels and image data untouched) or into a
sidecar, survives metadata edits, and verifies right back."""

from __future__ import annotations

import base64
import stat
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, PngImagePlugin

from streamgan.errors import InputError, NoFaceError
from streamgan.safety.consent import check_consent, grant_consent, require_consent
from streamgan.safety.consent_carrier import JPEG_IDENT, sidecar_path, write_embedded
from streamgan.safety.consent_keys import load_public_key, raw_public
from tests.safety.test_consent_support import (
    Signer,
    hopper,
    pixels,
    save,
    tags_in,
    two_faces,
)


def test_png_round_trip_keeps_pixels_and_image_data(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "face.png", hopper())
    before = image.read_bytes()
    done = grant_consent(image, alice.key, "Grace Hopper", ["reenact", "stream"],
                         expires=date.today() + timedelta(days=30))
    assert done.in_file and done.written == image.resolve() and done.replaced is None
    assert np.array_equal(pixels(image), hopper())
    assert not sidecar_path(image).exists()
    # Only a chunk was added: taking it out gives back the original file, byte for byte.
    write_embedded(image, [], lambda _: None)
    assert image.read_bytes() == before


def test_png_tag_verifies_with_every_field(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "face.png", hopper())
    expires = date.today() + timedelta(days=30)
    done = grant_consent(image, alice.key, "Grace Hopper", ["reenact", "stream"],
                         expires=expires)
    record = require_consent(image, "reenact", extra_trust=[alice.pub])
    assert record.record_id == record.id == done.tag.id
    assert record.subject == "Grace Hopper"
    assert record.scopes == ("reenact", "stream")
    assert record.expires == expires and record.not_before is None
    assert record.signer_fingerprint == done.tag.signer_fingerprint
    assert record.signer_name == "alice" and not record.test_only
    assert record.location == "PNG iTXt chunk"
    assert record.face_index == 0
    x0, y0, x1, y1 = record.face_box
    assert 0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1
    assert require_consent(image, "stream", extra_trust=[alice.pub]).id == done.tag.id
    tag = tags_in(image)[0]
    assert base64.b64decode(tag["signer"]["public_key"]) == raw_public(load_public_key(alice.pub))


def test_jpeg_round_trip_inserts_one_segment_without_reencoding(
        tmp_path: Path, alice: Signer) -> None:
    exif = Image.Exif()
    exif[0x010E] = "a description"  # ImageDescription
    image = save(tmp_path / "face.jpg", hopper(), quality=90, exif=exif.tobytes())
    before, decoded = image.read_bytes(), pixels(image)
    grant_consent(image, alice.key, "Grace Hopper – “Amazing Grace”, 海軍", ["reenact"])
    after = image.read_bytes()
    assert np.array_equal(pixels(image), decoded)
    at = after.index(b"\xff\xea")
    assert after[at + 4:at + 4 + len(JPEG_IDENT)] == JPEG_IDENT
    assert after.index(b"Exif\x00\x00") < at  # after the Exif segment, as JPEG wants
    segment_length = int.from_bytes(after[at + 2:at + 4], "big")
    assert after[:at] + after[at + 2 + segment_length:] == before
    with Image.open(image) as img:
        assert img.getexif()[0x010E] == "a description"
    record = require_consent(image, "reenact", extra_trust=[alice.pub])
    assert record.location == "JPEG APP10 segment"
    assert record.subject == "Grace Hopper – “Amazing Grace”, 海軍"


def test_formats_without_room_get_a_sidecar(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "face.webp", hopper(), lossless=True)
    before = image.read_bytes()
    done = grant_consent(image, alice.key, "Grace Hopper", ["reenact"])
    assert not done.in_file and done.written == tmp_path / "face.webp.consent.json"
    assert image.read_bytes() == before
    record = require_consent(image, "reenact", extra_trust=[alice.pub])
    assert record.location == "sidecar face.webp.consent.json"


def test_sidecar_on_request(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "face.png", hopper())
    before = image.read_bytes()
    done = grant_consent(image, alice.key, "Grace Hopper", ["reenact"], sidecar=True)
    assert not done.in_file and sidecar_path(image).is_file()
    assert image.read_bytes() == before
    assert require_consent(image, "reenact", extra_trust=[alice.pub]).location.startswith(
        "sidecar")


def test_png_metadata_edits_keep_the_tag_valid(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "face.png", hopper(), compress_level=6)
    grant_consent(image, alice.key, "Grace Hopper", ["reenact"])
    with Image.open(image) as img:
        text = dict(img.text)  # type: ignore[attr-defined]
        info = PngImagePlugin.PngInfo()
        for key, value in text.items():
            info.add_itxt(key, value, zip=True)  # a tool that compresses text chunks
        info.add_text("Comment", "retouched metadata only")
        edited = tmp_path / "edited.png"
        img.save(edited, pnginfo=info, compress_level=1)
    assert edited.read_bytes() != image.read_bytes()
    record = require_consent(edited, "reenact", extra_trust=[alice.pub])
    assert record.location == "PNG iTXt chunk"


def test_jpeg_metadata_edit_keeps_the_tag_valid(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "face.jpg", hopper(), quality=90)
    grant_consent(image, alice.key, "Grace Hopper", ["reenact"])
    data = image.read_bytes()
    comment = b"edited by a photo organiser"
    image.write_bytes(data[:2] + b"\xff\xfe" + (len(comment) + 2).to_bytes(2, "big") + comment
                      + data[2:])
    require_consent(image, "reenact", extra_trust=[alice.pub])


def test_granting_again_replaces_the_tag_for_that_face(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "face.png", hopper())
    first = grant_consent(image, alice.key, "Grace Hopper", ["reenact"])
    second = grant_consent(image, alice.key, "Grace Hopper", ["reenact", "stream"])
    assert second.replaced == first.tag.id
    assert [t["id"] for t in tags_in(image)] == [second.tag.id]
    assert require_consent(image, "stream", extra_trust=[alice.pub]).id == second.tag.id


def test_each_face_gets_its_own_tag(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "pair.png", two_faces())
    left = grant_consent(image, alice.key, "One", ["reenact"], face_index=0)
    right = grant_consent(image, alice.key, "Two", ["reenact"], face_index=1)
    assert len(tags_in(image)) == 2
    assert require_consent(image, "reenact", face_index=0, extra_trust=[alice.pub]).id == \
        left.tag.id
    record = require_consent(image, "reenact", face_index=1, extra_trust=[alice.pub])
    assert record.id == right.tag.id and record.subject == "Two"
    assert record.face_box != require_consent(image, "reenact", extra_trust=[alice.pub]).face_box


def test_grant_keeps_the_files_permissions(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "face.png", hopper())
    image.chmod(0o640)
    grant_consent(image, alice.key, "Grace Hopper", ["reenact"])
    assert stat.S_IMODE(image.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_grant_refuses_what_cannot_be_consented(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "face.png", hopper())
    blank = save(tmp_path / "blank.png", np.full((200, 200, 3), 128, np.uint8))
    before = image.read_bytes()
    with pytest.raises(NoFaceError, match="no face 0"):
        grant_consent(blank, alice.key, "Nobody", ["reenact"])
    with pytest.raises(NoFaceError, match="no face 3"):
        grant_consent(image, alice.key, "Grace Hopper", ["reenact"], face_index=3)
    with pytest.raises(InputError, match="unknown scope 'train'"):
        grant_consent(image, alice.key, "Grace Hopper", ["train"])
    with pytest.raises(InputError, match="subject is empty"):
        grant_consent(image, alice.key, "  ", ["reenact"])
    with pytest.raises(InputError, match="not in the future"):
        grant_consent(image, alice.key, "Grace Hopper", ["reenact"],
                      expires=date(2020, 1, 1))
    with pytest.raises(InputError, match="not after the start"):
        grant_consent(image, alice.key, "Grace Hopper", ["reenact"],
                      not_before=date(2040, 1, 2), expires=date(2040, 1, 1))
    assert image.read_bytes() == before
    assert not sidecar_path(image).exists()


def test_created_and_id_can_be_fixed_for_reproducible_samples(
        tmp_path: Path, alice: Signer) -> None:
    when = datetime(2025, 1, 1, tzinfo=timezone.utc)
    tag_id = "6935179f-71a4-509f-888f-8e515a86ffd4"
    a = save(tmp_path / "a.png", hopper())
    b = save(tmp_path / "b.png", hopper())
    grant_consent(a, alice.key, "Grace Hopper", ["reenact"], now=when, tag_id=tag_id)
    grant_consent(b, alice.key, "Grace Hopper", ["reenact"], now=when, tag_id=tag_id)
    assert a.read_bytes() == b.read_bytes()
    assert check_consent(a, None, extra_trust=[alice.pub]).created == when
