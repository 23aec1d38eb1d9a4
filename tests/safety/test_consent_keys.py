"""Signing keys: private files are 0600, never overwritten by accident, and load back."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from streamgan.errors import InputError, OutputError
from streamgan.safety.consent_keys import (
    fingerprint,
    generate_keypair,
    load_private_key,
    load_public_key,
    parse_public_key,
)


def test_keygen_writes_private_key_owner_only(tmp_path: Path) -> None:
    files = generate_keypair(tmp_path / "alice")
    assert files.private == tmp_path / "alice.key"
    assert files.public == tmp_path / "alice.pub"
    assert stat.S_IMODE(files.private.stat().st_mode) == 0o600
    assert files.private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert files.public.read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")
    private = load_private_key(files.private)
    public = load_public_key(files.public)
    assert fingerprint(private.public_key()) == fingerprint(public) == files.fingerprint
    assert files.fingerprint.startswith("ed25519:") and len(files.fingerprint) == 8 + 32
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp files left


def test_keygen_never_overwrites_a_key_unless_forced(tmp_path: Path) -> None:
    first = generate_keypair(tmp_path / "alice")
    with pytest.raises(OutputError, match="already exists"):
        generate_keypair(tmp_path / "alice.key")  # the same pair, named by its key file
    assert first.fingerprint == fingerprint(load_public_key(first.public))
    second = generate_keypair(tmp_path / "alice", force=True)
    assert second.fingerprint != first.fingerprint


def test_seeded_keys_are_reproducible(tmp_path: Path) -> None:
    seed = bytes(range(32))
    a = generate_keypair(tmp_path / "a", seed=seed)
    b = generate_keypair(tmp_path / "b", seed=seed)
    assert a.private.read_bytes() == b.private.read_bytes()
    assert a.fingerprint == b.fingerprint


def test_keygen_into_missing_directory_fails_cleanly(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="does not exist"):
        generate_keypair(tmp_path / "nowhere" / "alice")


def test_other_keys_are_refused_with_a_reason(tmp_path: Path) -> None:
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem = tmp_path / "ec.key"
    pem.write_bytes(ec_key.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption()))
    with pytest.raises(InputError, match="not an Ed25519 key"):
        load_private_key(pem)
    junk = tmp_path / "junk.key"
    junk.write_text("hello\n")
    with pytest.raises(InputError, match="not a PEM private key"):
        load_private_key(junk)
    with pytest.raises(InputError, match="no such file"):
        load_private_key(tmp_path / "missing.key")
    with pytest.raises(ValueError, match="not an Ed25519 public key"):
        parse_public_key(ec_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode())
