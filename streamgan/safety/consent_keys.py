"""Ed25519 keys that sign consent tags: make them, save them, load them, name them.

A consent tag names its signer by the raw 32-byte public key; people compare keys by
a short fingerprint (``ed25519:`` and the first 16 bytes of the key's SHA-256, in hex).
Private keys are PKCS#8 PEM files readable by their owner only; public keys are
SubjectPublicKeyInfo PEM, the form ``openssl pkey -pubout`` writes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from streamgan.config import write_private
from streamgan.errors import InputError, OutputError
from streamgan.media.atomic import atomic_output
from streamgan.media.container import check_input_file

log = logging.getLogger(__name__)

PRIVATE_SUFFIX = ".key"
PUBLIC_SUFFIX = ".pub"
RAW_KEY_BYTES = 32


@dataclass(frozen=True)
class KeyFiles:
    """Where :func:`generate_keypair` wrote a new key pair."""

    private: Path
    public: Path
    fingerprint: str


def key_prefix(prefix: Path) -> Path:
    """``alice``, ``alice.key`` and ``alice.pub`` all mean the pair ``alice.key``/``alice.pub``."""
    if prefix.suffix in (PRIVATE_SUFFIX, PUBLIC_SUFFIX):
        return prefix.with_suffix("")
    return prefix


def generate_keypair(prefix: Path, *, force: bool = False, seed: bytes | None = None) -> KeyFiles:
    """Write PREFIX.key (0600) and PREFIX.pub; refuse to overwrite a key unless ``force``.

    ``seed`` (32 bytes) makes the key reproducible: only for test and sample keys.
    """
    base = key_prefix(Path(prefix))
    private_path = base.with_name(base.name + PRIVATE_SUFFIX)
    public_path = base.with_name(base.name + PUBLIC_SUFFIX)
    if not force:
        for existing in (private_path, public_path):
            if existing.exists():
                raise OutputError(f"{existing}: already exists; not overwriting a key "
                                  "(remove it first or use --force)")
    if not base.parent.is_dir():
        raise OutputError(f"{private_path}: cannot write: directory does not exist")
    key = Ed25519PrivateKey.generate() if seed is None else _from_seed(seed)
    private_pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    try:
        write_private(private_path, private_pem)
    except OSError as e:
        raise OutputError(f"{private_path}: cannot write: {e.strerror or e}") from e
    with atomic_output(public_path) as temp:
        temp.write_bytes(public_pem(key.public_key()))
    fp = fingerprint(key.public_key())
    log.info("wrote key pair %s / %s (%s)", private_path, public_path, fp)
    return KeyFiles(private=private_path, public=public_path, fingerprint=fp)


def _from_seed(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != RAW_KEY_BYTES:
        raise ValueError(f"an Ed25519 seed is {RAW_KEY_BYTES} bytes, got {len(seed)}")
    return Ed25519PrivateKey.from_private_bytes(seed)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in a PEM file; InputError for anything else."""
    path = Path(path)
    check_input_file(path)
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        raise InputError(f"{path}: the key is encrypted; streamgan needs an unencrypted "
                         "Ed25519 key (make one with: streamgan consent keygen PREFIX)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise InputError(f"{path}: not a PEM private key (make one with: "
                         "streamgan consent keygen PREFIX)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError(f"{path}: not an Ed25519 key; consent tags are signed with Ed25519")
    return key


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key from PEM, base64 of the raw 32 bytes, or base64 of DER; ValueError else."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode("ascii"))
        except (ValueError, UnsupportedAlgorithm, UnicodeEncodeError) as e:
            raise ValueError(f"not a PEM public key ({e})") from None
    else:
        try:
            raw = base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            raise ValueError("not PEM and not base64") from None
        if len(raw) == RAW_KEY_BYTES:
            return Ed25519PublicKey.from_public_bytes(raw)
        try:
            key = serialization.load_der_public_key(raw)
        except (ValueError, UnsupportedAlgorithm) as e:
            raise ValueError(f"not a DER public key ({e})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in a file (PEM or base64); InputError otherwise."""
    path = Path(path)
    check_input_file(path)
    try:
        return parse_public_key(path.read_text(encoding="utf-8", errors="replace"))
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
    except ValueError as e:
        raise InputError(f"{path}: not an Ed25519 public key: {e}") from None


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.PEM,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def encode_public(key: Ed25519PublicKey) -> str:
    """The form a tag carries: base64 of the raw 32-byte key."""
    return base64.b64encode(raw_public(key)).decode("ascii")


def decode_public(text: str) -> Ed25519PublicKey:
    """Inverse of :func:`encode_public`; ValueError for anything but 32 base64 bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("signer key is not base64") from None
    if len(raw) != RAW_KEY_BYTES:
        raise ValueError(f"signer key is {len(raw)} bytes, not {RAW_KEY_BYTES}")
    return Ed25519PublicKey.from_public_bytes(raw)


def fingerprint(key: Ed25519PublicKey) -> str:
    """Short, stable name for a key: what people compare and messages show."""
    return fingerprint_raw(raw_public(key))


def fingerprint_raw(raw: bytes) -> str:
    return "ed25519:" + hashlib.sha256(raw).hexdigest()[:32]
