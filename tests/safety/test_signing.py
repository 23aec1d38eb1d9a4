"""The local signing identity: a root CA and a signer C2PA accepts, made once, kept safe."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

from streamgan.cli.main import main
from streamgan.config import ENV_CONFIG_DIR
from streamgan.errors import OutputError, StreamganError
from streamgan.safety import signing
from streamgan.safety.signing import (
    ensure_identity,
    init_identity,
    load_identity,
    trusted_root_pem,
)


def _cert(path: Path) -> x509.Certificate:
    return x509.load_pem_x509_certificate(path.read_bytes())


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_init_makes_a_root_and_a_signer_c2pa_accepts(config_home: Path) -> None:
    identity, created = init_identity()
    assert created
    assert identity.directory == config_home / "signing"
    assert _mode(identity.directory) == 0o700
    assert _mode(identity.key_path) == 0o600
    assert _mode(identity.root_key_path) == 0o600

    root, leaf = _cert(identity.root_cert_path), _cert(identity.cert_path)
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert root.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    usage = leaf.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical and usage.value.digital_signature
    eku = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.EMAIL_PROTECTION in eku
    leaf.verify_directly_issued_by(root)  # not self-signed
    assert leaf.issuer == root.subject != leaf.subject
    aki = leaf.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    assert aki.key_identifier == ski.digest
    assert isinstance(leaf.public_key(), ec.EllipticCurvePublicKey)
    assert identity.algorithm == "es256"
    assert leaf.not_valid_after_utc <= root.not_valid_after_utc
    assert len(identity.fingerprint) == 64
    assert "PRIVATE KEY" not in repr(identity)


def test_init_keeps_an_existing_identity(config_home: Path) -> None:
    first, _ = init_identity()
    files = {p.name: p.read_bytes() for p in first.directory.iterdir()}
    again, created = init_identity()
    assert not created
    assert again.fingerprint == first.fingerprint
    assert {p.name: p.read_bytes() for p in first.directory.iterdir()} == files
    assert ensure_identity().fingerprint == first.fingerprint


def test_force_replaces_root_and_signer() -> None:
    first, _ = init_identity()
    second, created = init_identity(force=True)
    assert created
    assert second.fingerprint != first.fingerprint
    assert second.root_pem != first.root_pem


def test_a_lost_signer_is_reissued_from_the_same_root() -> None:
    first, _ = init_identity()
    first.cert_path.unlink()
    assert load_identity() is None
    second, created = init_identity()
    assert created
    assert second.root_pem == first.root_pem  # files signed before stay trusted
    assert second.fingerprint != first.fingerprint


def test_an_expired_signer_is_renewed_from_the_same_root(
        monkeypatch: pytest.MonkeyPatch) -> None:
    days = signing.LEAF_DAYS
    monkeypatch.setattr(signing, "LEAF_DAYS", 0)
    first, _ = init_identity()
    assert first.expired
    monkeypatch.setattr(signing, "LEAF_DAYS", days)
    second, created = init_identity()
    assert created and not second.expired
    assert second.root_pem == first.root_pem


def test_a_mismatched_key_is_reported_not_replaced() -> None:
    identity, _ = init_identity()
    other = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    identity.key_path.write_bytes(other)
    with pytest.raises(StreamganError, match="keys init --force"):
        ensure_identity()
    assert identity.key_path.read_bytes() == other


def test_a_readable_key_is_warned_about(caplog: pytest.LogCaptureFixture) -> None:
    identity, _ = init_identity()
    identity.key_path.chmod(0o644)
    with caplog.at_level("WARNING"):
        load_identity()
    assert "readable by others" in caplog.text


def test_keys_cli(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "show"]) == 1
    assert "keys init" in capsys.readouterr().err

    assert main(["keys", "init"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("created")
    fingerprint = load_identity().fingerprint  # type: ignore[union-attr]
    assert fingerprint in out

    assert main(["keys", "init"]) == 0
    assert capsys.readouterr().out.startswith("kept")

    assert main(["keys", "show"]) == 0
    out = capsys.readouterr().out
    assert fingerprint in out and "signer.pem" in out and "CN=streamgan signer" in out

    assert main(["keys", "init", "--force", "-q"]) == 0
    assert capsys.readouterr().out == ""
    assert load_identity().fingerprint != fingerprint  # type: ignore[union-attr]


def test_keys_needs_an_action(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["keys"])
    assert exit_.value.code == 2


def test_a_damaged_root_is_no_trust_anchor(caplog: pytest.LogCaptureFixture) -> None:
    assert trusted_root_pem() is None
    identity, _ = init_identity()
    assert trusted_root_pem() == identity.root_pem
    identity.root_cert_path.write_bytes(b"garbage")
    with caplog.at_level("WARNING"):
        assert trusted_root_pem() is None
    assert "trust anchor" in caplog.text


def test_an_unwritable_config_dir_is_an_output_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("not a directory")
    monkeypatch.setenv(ENV_CONFIG_DIR, str(tmp_path / "file" / "streamgan"))
    with pytest.raises(OutputError, match="cannot write the signing identity"):
        ensure_identity()
