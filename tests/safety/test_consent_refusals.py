"""Every reason to refuse consent, each told apart, each one line ending with the fix."""

from __future__ import annotations

import base64
import copy
import pickle
import shlex
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from streamgan.safety.consent import (
    ConsentError,
    ConsentProblem,
    check_consent,
    grant_consent,
    require_consent,
)
from streamgan.safety.consent_carrier import sidecar_path, write_sidecar
from streamgan.safety.consent_pixels import box_iou, same_face
from tests.safety.test_consent_support import (
    TARGET,
    Signer,
    hopper,
    make_signer,
    pixels,
    replace_tags,
    save,
    tags_in,
    two_faces,
)


@pytest.fixture
def tagged(tmp_path: Path, alice: Signer) -> Path:
    """A PNG of Hopper with Alice's consent for reenact (not stream)."""
    image = save(tmp_path / "face.png", hopper())
    grant_consent(image, alice.key, "Grace Hopper", ["reenact"],
                  not_before=date(2024, 1, 1), expires=date(2040, 1, 1))
    return image


def refusal(image: Path, scope: str = "reenact", **kwargs: Any) -> ConsentError:
    """The ConsentError require_consent raises, after checking its one-line form."""
    with pytest.raises(ConsentError) as caught:
        require_consent(image, scope, **kwargs)
    error = caught.value
    message = str(error)
    face = kwargs.get("face_index", 0)
    fix = (f"grant it with: streamgan consent grant {shlex.quote(str(image))} --key KEY "
           f"--subject NAME --scope {scope}" + (f" --face-index {face}" if face else ""))
    assert "\n" not in message
    assert message == f"{image}: {error.reason}; {fix}" or \
        message == f"{image}: {error.reason}; or {fix}"
    return error


def test_the_tagged_image_passes(tagged: Path, alice: Signer) -> None:
    require_consent(tagged, "reenact", extra_trust=[alice.pub])


def test_no_tag(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "plain.png", hopper())
    error = refusal(image, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.NO_TAG
    assert "no consent tag" in error.reason and "plain.png.consent.json" in error.reason


def test_bad_signature_flipped_byte(tagged: Path, alice: Signer) -> None:
    tag = tags_in(tagged)[0]
    signature = bytearray(base64.b64decode(tag["signature"]))
    signature[10] ^= 0x01
    tag["signature"] = base64.b64encode(bytes(signature)).decode()
    replace_tags(tagged, [tag])
    error = refusal(tagged, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.BAD_SIGNATURE
    assert "bad signature" in error.reason


def test_bad_signature_edited_field(tagged: Path, alice: Signer) -> None:
    tag = tags_in(tagged)[0]
    tag["scopes"] = ["reenact", "stream"]  # widen the consent without the signer
    replace_tags(tagged, [tag])
    assert refusal(tagged, "stream", extra_trust=[alice.pub]).problem is \
        ConsentProblem.BAD_SIGNATURE


def test_damaged_tag(tagged: Path, alice: Signer) -> None:
    tag = tags_in(tagged)[0]
    del tag["subject"]
    replace_tags(tagged, [tag])
    error = refusal(tagged, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.BAD_SIGNATURE
    assert "damaged" in error.reason and "subject" in error.reason


def test_unknown_signer(tagged: Path, tmp_path: Path) -> None:
    mallory = make_signer(tmp_path, "mallory")
    error = refusal(tagged, extra_trust=[mallory.pub])
    assert error.problem is ConsentProblem.UNKNOWN_SIGNER
    assert "not a trusted signer" in error.reason
    assert "streamgan consent trust" in error.reason
    assert refusal(tagged).problem is ConsentProblem.UNKNOWN_SIGNER  # nothing trusted at all


def test_resigned_by_another_key_is_an_unknown_signer(tagged: Path, tmp_path: Path,
                                                      alice: Signer) -> None:
    """Re-signing a tag with one's own key gives a valid signature, but not Alice's."""
    mallory = make_signer(tmp_path, "mallory")
    grant_consent(tagged, mallory.key, "Grace Hopper", ["reenact"])
    assert refusal(tagged, extra_trust=[alice.pub]).problem is ConsentProblem.UNKNOWN_SIGNER


def test_expired(tagged: Path, alice: Signer) -> None:
    last_moment = datetime(2039, 12, 31, 23, 59, 59, tzinfo=timezone.utc)
    require_consent(tagged, "reenact", extra_trust=[alice.pub], now=last_moment)
    error = refusal(tagged, extra_trust=[alice.pub], now=last_moment + timedelta(seconds=1))
    assert error.problem is ConsentProblem.EXPIRED
    assert "expired on 2040-01-01" in error.reason


def test_not_yet_valid(tagged: Path, alice: Signer) -> None:
    require_consent(tagged, "reenact", extra_trust=[alice.pub],
                    now=datetime(2024, 1, 1, tzinfo=timezone.utc))
    error = refusal(tagged, extra_trust=[alice.pub],
                    now=datetime(2023, 12, 31, 23, 59, tzinfo=timezone.utc))
    assert error.problem is ConsentProblem.NOT_YET_VALID
    assert "not valid before 2024-01-01" in error.reason


def test_scope_not_granted(tagged: Path, alice: Signer) -> None:
    error = refusal(tagged, "stream", extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.SCOPE_NOT_GRANTED
    assert "grants reenact, not stream" in error.reason


def test_pixels_changed(tagged: Path, alice: Signer) -> None:
    tag = tags_in(tagged)[0]
    edited = pixels(tagged)
    edited[100:103, 200:203] = 255 - edited[100:103, 200:203]  # nine pixels
    save(tagged, edited)
    replace_tags(tagged, [tag])
    error = refusal(tagged, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.PIXELS_CHANGED
    assert "pixels changed" in error.reason


def test_tag_copied_from_another_image(tagged: Path, tmp_path: Path, alice: Signer) -> None:
    other = tmp_path / "other.png"
    other.write_bytes(TARGET.read_bytes())
    replace_tags(other, tags_in(tagged))
    error = refusal(other, extra_trust=[alice.pub])
    assert error.problem is ConsentProblem.FOREIGN_TAG
    assert "belongs to another image" in error.reason


def test_sidecar_copied_from_another_image(tagged: Path, tmp_path: Path, alice: Signer) -> None:
    other = save(tmp_path / "other.webp", np.ascontiguousarray(hopper()[:, ::-1]),
                 lossless=True)
    write_sidecar(other, tags_in(tagged))
    assert refusal(other, extra_trust=[alice.pub]).problem is ConsentProblem.FOREIGN_TAG


def test_tag_covers_another_face(tmp_path: Path, alice: Signer) -> None:
    image = save(tmp_path / "pair.png", two_faces())
    grant_consent(image, alice.key, "Right-hand face", ["reenact"], face_index=1)
    error = refusal(image, extra_trust=[alice.pub], face_index=0)
    assert error.problem is ConsentProblem.OTHER_FACE
    assert "covers face 1, not face 0" in error.reason
    require_consent(image, "reenact", face_index=1, extra_trust=[alice.pub])


def test_face_binding_compares_boxes(tagged: Path, alice: Signer) -> None:
    """The face at the chosen index must be the tagged face, even if detection moved."""
    tag = tags_in(tagged)[0]
    x0, y0, x1, y1 = tag["face"]["box"]
    assert same_face((x0, y0, x1, y1), (x0 + 100, y0, x1 + 100, y1))
    assert not same_face((x0, y0, x1, y1), (x1, y0, x1 + (x1 - x0), y1))
    assert box_iou((0, 0, 10, 10), (20, 20, 30, 30)) == 0.0

    def shifted(rgb: NDArray[np.uint8], max_faces: int) -> list[NDArray[np.float64]]:
        height, width = rgb.shape[:2]
        dx = (x1 - x0) / 10_000 * width  # a face one face-width to the right
        pts = np.array([[x0 / 10_000 * width + dx, y0 / 10_000 * height, 0],
                        [x1 / 10_000 * width + dx, y1 / 10_000 * height, 0]])
        return [pts]

    with pytest.raises(ConsentError) as caught:
        check_consent(tagged, "reenact", extra_trust=[alice.pub], detector=shifted)
    assert caught.value.problem is ConsentProblem.OTHER_FACE
    assert "face 0 is not the face" in caught.value.reason


def test_a_holding_tag_wins_over_a_broken_one(tagged: Path, alice: Signer) -> None:
    good = tags_in(tagged)[0]
    broken = copy.deepcopy(good)
    broken["subject"] = "Someone Else"
    replace_tags(tagged, [broken])
    write_sidecar(tagged, [good])
    assert sidecar_path(tagged).exists()
    record = require_consent(tagged, "reenact", extra_trust=[alice.pub])
    assert record.location.startswith("sidecar")


def test_consent_error_survives_pickling(tmp_path: Path) -> None:
    image = save(tmp_path / "plain.png", hopper())
    error = pickle.loads(pickle.dumps(refusal(image)))
    assert error.problem is ConsentProblem.NO_TAG and str(error).startswith(f"{image}: ")


def test_programming_errors_are_not_consent_errors(tagged: Path, alice: Signer) -> None:
    with pytest.raises(ValueError, match="unknown consent scope"):
        require_consent(tagged, "train", extra_trust=[alice.pub])
    with pytest.raises(ValueError, match="timezone-aware"):
        require_consent(tagged, "reenact", extra_trust=[alice.pub], now=datetime(2030, 1, 1))
