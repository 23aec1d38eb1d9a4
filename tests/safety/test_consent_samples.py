"""The committed sample consent: target.png verifies with the TEST ONLY trust file only."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamgan.cli.main import main
from streamgan.safety.consent import (
    ConsentError,
    ConsentProblem,
    grant_consent,
    inspect_consent,
    require_consent,
)
from streamgan.safety.consent_keys import fingerprint, load_private_key, load_public_key
from streamgan.safety.consent_pixels import pixel_facts
from streamgan.safety.consent_trust import load_trust_file
from tests.safety.test_consent_support import SAMPLE_TRUST, TARGET, hopper, save

CONSENT = SAMPLE_TRUST.parent


def test_sample_target_verifies_with_the_sample_trust_file() -> None:
    for scope in ("reenact", "stream"):
        record = require_consent(TARGET, scope, extra_trust=[SAMPLE_TRUST])
        assert record.test_only
        assert record.expires is None
        assert record.location == "PNG iTXt chunk"
        assert "no real person" in record.subject


def test_sample_target_fails_without_it() -> None:
    with pytest.raises(ConsentError) as caught:
        require_consent(TARGET, "reenact")
    assert caught.value.problem is ConsentProblem.UNKNOWN_SIGNER


def test_sample_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["consent", "verify", str(TARGET), "--scope", "reenact",
                 "--trust", str(SAMPLE_TRUST)]) == 0
    assert "TEST ONLY signer" in capsys.readouterr().out
    assert main(["consent", "verify", str(TARGET), "--scope", "reenact"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "not a trusted signer" in err


def test_sample_trust_file_is_test_only_and_limited_to_the_target() -> None:
    signer = load_trust_file(SAMPLE_TRUST)
    assert signer.test_only and "TEST ONLY" in signer.name
    assert "TEST ONLY" in json.loads(SAMPLE_TRUST.read_text())["comment"]
    assert signer.images == frozenset({pixel_facts(TARGET).sha256})
    public = load_public_key(CONSENT / "sample-signer.pub")
    assert fingerprint(public) == signer.fingerprint
    private = load_private_key(CONSENT / "sample-signer.key")
    assert fingerprint(private.public_key()) == signer.fingerprint
    readme = (CONSENT / "README.md").read_text()
    assert readme.count("TEST ONLY") >= 3
    assert "--trust samples/consent/sample-signer.trust.json" in readme
    reports = inspect_consent(TARGET, [SAMPLE_TRUST])
    assert len(reports) == 1 and reports[0].signature_valid


def test_the_public_sample_key_vouches_for_no_other_image(tmp_path: Path) -> None:
    """Anyone can sign with the published sample key; its trust file must not let them."""
    image = save(tmp_path / "face.png", hopper())
    grant_consent(image, CONSENT / "sample-signer.key", "Grace Hopper", ["reenact"])
    with pytest.raises(ConsentError) as caught:
        require_consent(image, "reenact", extra_trust=[SAMPLE_TRUST])
    assert caught.value.problem is ConsentProblem.UNKNOWN_SIGNER
    assert "only for other images" in caught.value.reason
