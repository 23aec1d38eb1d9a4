"""Trusted signers: config directory, $STREAMGAN_TRUST, --trust, and restricted trust files."""

from __future__ import annotations

import base64
import json
import logging
import os
from pathlib import Path

import pytest

from streamgan.errors import InputError, OutputError
from streamgan.safety.consent import ConsentError, ConsentProblem, grant_consent, require_consent
from streamgan.safety.consent_keys import load_public_key, raw_public
from streamgan.safety.consent_pixels import pixel_facts
from streamgan.safety.consent_trust import (
    ENV_TRUST,
    install_trust,
    load_trust_file,
    trusted_dir,
    trusted_signers,
)
from tests.safety.test_consent_support import Signer, hopper, make_signer, save


@pytest.fixture
def tagged(tmp_path: Path, alice: Signer) -> Path:
    image = save(tmp_path / "face.png", hopper())
    grant_consent(image, alice.key, "Grace Hopper", ["reenact"])
    return image


def problem(image: Path, **kwargs: object) -> ConsentProblem:
    with pytest.raises(ConsentError) as caught:
        require_consent(image, "reenact", **kwargs)  # type: ignore[arg-type]
    return caught.value.problem


def trust_json(path: Path, signer: Signer, **fields: object) -> Path:
    doc = {"public_key": signer.pub.read_text(), **fields}
    path.write_text(json.dumps(doc))
    return path


def test_config_directory(tagged: Path, alice: Signer, config_home: Path) -> None:
    assert problem(tagged) is ConsentProblem.UNKNOWN_SIGNER
    dest, signer, added = install_trust(alice.pub)
    assert added and dest == config_home / "trusted" / "alice.pub" == trusted_dir() / "alice.pub"
    assert dest.read_bytes() == alice.pub.read_bytes()
    assert require_consent(tagged, "reenact").signer_name == "alice"
    assert install_trust(alice.pub)[2] is False  # the same file again: nothing to do
    assert signer.fingerprint.startswith("ed25519:")


def test_config_directory_never_replaces_another_key(tmp_path: Path, alice: Signer) -> None:
    install_trust(alice.pub)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    impostor = make_signer(other_dir, "alice")
    with pytest.raises(OutputError, match="different trusted signer"):
        install_trust(impostor.pub)
    assert (trusted_dir() / "alice.pub").read_bytes() == alice.pub.read_bytes()


def test_install_refuses_what_is_not_a_key(tmp_path: Path) -> None:
    junk = tmp_path / "junk.pub"
    junk.write_text("not a key\n")
    with pytest.raises(InputError, match="not a public key"):
        install_trust(junk)
    assert not trusted_dir().exists()


def test_broken_file_in_config_directory_is_skipped(
        tagged: Path, alice: Signer, caplog: pytest.LogCaptureFixture) -> None:
    install_trust(alice.pub)
    (trusted_dir() / "broken.pub").write_text("garbage\n")
    with caplog.at_level(logging.WARNING):
        assert require_consent(tagged, "reenact").signer_name == "alice"
    assert "broken.pub" in caplog.text


def test_environment_variable(tagged: Path, tmp_path: Path, alice: Signer,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    bob = make_signer(tmp_path, "bob")
    monkeypatch.setenv(ENV_TRUST, os.pathsep.join([str(bob.pub), str(alice.pub)]))
    assert [s.name for s in trusted_signers()] == ["bob", "alice"]
    assert require_consent(tagged, "reenact").signer_name == "alice"
    monkeypatch.setenv(ENV_TRUST, str(bob.pub))
    assert problem(tagged) is ConsentProblem.UNKNOWN_SIGNER


def test_environment_variable_naming_a_missing_file_is_an_error(
        tagged: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_TRUST, str(tmp_path / "gone.pub"))
    with pytest.raises(InputError, match=r"gone.pub: no such file \(listed in \$STREAMGAN_TRUST"):
        require_consent(tagged, "reenact")


def test_trust_argument(tagged: Path, tmp_path: Path, alice: Signer) -> None:
    bob = make_signer(tmp_path, "bob")
    assert problem(tagged, extra_trust=[bob.pub]) is ConsentProblem.UNKNOWN_SIGNER
    assert require_consent(tagged, "reenact", extra_trust=[bob.pub, alice.pub]).signer_name == \
        "alice"
    with pytest.raises(InputError, match="no such file"):
        require_consent(tagged, "reenact", extra_trust=[tmp_path / "missing.pub"])


def test_restricted_trust_file_vouches_only_for_listed_images(
        tagged: Path, tmp_path: Path, alice: Signer) -> None:
    other = save(tmp_path / "other.png", hopper()[::2, ::2])
    grant_consent(other, alice.key, "Grace Hopper, smaller", ["reenact"])
    only_other = trust_json(tmp_path / "only-other.json", alice, name="for other.png",
                            images=[pixel_facts(other).sha256])
    with pytest.raises(ConsentError) as caught:
        require_consent(tagged, "reenact", extra_trust=[only_other])
    assert caught.value.problem is ConsentProblem.UNKNOWN_SIGNER
    assert "trusted only for other images" in caught.value.reason
    assert "only-other.json" in caught.value.reason
    record = require_consent(other, "reenact", extra_trust=[only_other])
    assert record.signer_name == "for other.png" and not record.test_only
    # An unrestricted entry for the same key elsewhere still vouches for everything.
    assert require_consent(tagged, "reenact", extra_trust=[only_other, alice.pub]).signer_name \
        == "alice"


def test_test_only_trust_file(tagged: Path, tmp_path: Path, alice: Signer,
                              caplog: pytest.LogCaptureFixture) -> None:
    digest = pixel_facts(tagged).sha256
    raw = base64.b64encode(raw_public(load_public_key(alice.pub))).decode()
    path = tmp_path / "t.trust.json"
    path.write_text(json.dumps({"public_key": raw, "test_only": True,
                                "images": [f"sha256:{digest.upper()}"]}))
    signer = load_trust_file(path)
    assert signer.name == "t" and signer.test_only and signer.images == frozenset({digest})
    with caplog.at_level(logging.WARNING):
        record = require_consent(tagged, "reenact", extra_trust=[path])
    assert record.test_only
    assert "TEST ONLY" in caplog.text


@pytest.mark.parametrize("fields, message", [
    ({"image": ["ab"]}, "unknown trust file field 'image'"),
    ({"images": ["xyz"]}, "not a pixel hash"),
    ({"images": "0" * 64}, "must be a list"),
    ({"test_only": "yes"}, "must be true or false"),
    ({"public_key": "bm90IGEga2V5"}, "bad \"public_key\""),
])
def test_malformed_trust_files_are_refused(tmp_path: Path, alice: Signer,
                                           fields: dict[str, object], message: str) -> None:
    path = trust_json(tmp_path / "bad.json", alice, **fields)
    with pytest.raises(InputError, match=message):
        load_trust_file(path)
