"""The user's own signing identity: a local root CA and a signer certificate it issued.

C2PA validators reject a self-signed signing certificate, a certificate without an
accepted extended key usage and one that is a CA, so a single key pair is not enough:
``keys init`` makes a root CA (kept, with its key, so the signer can be re-issued
without invalidating the trust anchor) and a leaf for signing. Everything is made
locally with ``cryptography``; nothing is fetched and nothing is publicly trusted.
Files signed with it read back as "Trusted" only where this root is configured as a
trust anchor (the user's own config dir), "Valid" everywhere else.

Layout of ``config_dir()/signing/`` (private keys 0600, directory 0700)::

    root-ca.pem  root-ca.key  signer.pem  signer.key
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import logging
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from streamgan.config import config_dir, write_private
from streamgan.errors import OutputError, StreamganError

log = logging.getLogger(__name__)

SIGNING_SUBDIR = "signing"
ROOT_CERT = "root-ca.pem"
ROOT_KEY = "root-ca.key"
LEAF_CERT = "signer.pem"
LEAF_KEY = "signer.key"

ROOT_DAYS = 20 * 365
LEAF_DAYS = 10 * 365
"""No timestamp authority is used (that would need the network), so validators check
the signer against the current time: a long-lived signer keeps old files valid."""

ORGANIZATION = "streamgan local signing"


def signing_dir(create: bool = False) -> Path:
    """Where the signing identity lives: ``config_dir()/signing`` (created 0700)."""
    path = config_dir(create=create) / SIGNING_SUBDIR
    if create:
        path.mkdir(mode=0o700, exist_ok=True)
    return path


@dataclass(frozen=True)
class SigningIdentity:
    """A loaded, checked signing identity: what ``sign_video`` and ``keys show`` need."""

    directory: Path
    leaf_pem: bytes
    """The signer certificate alone: the chain embedded in every manifest. The root is
    left out on purpose, so that a reader trusts it only if it already holds it."""
    root_pem: bytes
    key_pem: bytes = field(repr=False)
    subject: str
    issuer: str
    fingerprint: str
    """SHA-256 of the signer certificate (DER), lowercase hex."""
    not_after: dt.datetime
    algorithm: str
    """The C2PA signing algorithm the key calls for: "es256" for the P-256 keys made
    here; es384, es512, ed25519 or ps256 for a key and certificate put in by hand."""

    @property
    def root_cert_path(self) -> Path:
        return self.directory / ROOT_CERT

    @property
    def root_key_path(self) -> Path:
        return self.directory / ROOT_KEY

    @property
    def cert_path(self) -> Path:
        return self.directory / LEAF_CERT

    @property
    def key_path(self) -> Path:
        return self.directory / LEAF_KEY

    @property
    def expired(self) -> bool:
        return self.not_after <= dt.datetime.now(dt.timezone.utc)


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the certificate's DER encoding, lowercase hex (as ``openssl x509
    -fingerprint -sha256`` prints it, without colons)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def load_identity(directory: Path | None = None) -> SigningIdentity | None:
    """The identity in ``directory`` (default: :func:`signing_dir`), or None when there
    is none yet. Raises StreamganError when files are there but do not fit together."""
    directory = signing_dir() if directory is None else directory
    paths = [directory / name for name in (ROOT_CERT, LEAF_CERT, LEAF_KEY)]
    if not all(p.is_file() for p in paths):
        return None
    try:
        root_pem, leaf_pem, key_pem = (p.read_bytes() for p in paths)
    except OSError as e:
        raise StreamganError(f"{directory}: cannot read the signing identity: "
                             f"{e.strerror or e}") from e
    root = _parse_cert(directory / ROOT_CERT, root_pem)
    leaf = _parse_cert(directory / LEAF_CERT, leaf_pem)
    try:
        key = serialization.load_pem_private_key(key_pem, password=None)
    except (ValueError, TypeError) as e:
        raise _damaged(directory, f"{LEAF_KEY} is not a readable private key") from e
    if key.public_key() != leaf.public_key():
        raise _damaged(directory, f"{LEAF_KEY} does not belong to {LEAF_CERT}")
    algorithm = _algorithm(key)
    if algorithm is None:
        raise _damaged(directory, f"{LEAF_KEY} is a {type(key).__name__}, which C2PA "
                       "does not sign with")
    try:
        leaf.verify_directly_issued_by(root)
    except (ValueError, TypeError, InvalidSignature) as e:
        raise _damaged(directory, f"{LEAF_CERT} was not issued by {ROOT_CERT}") from e
    _warn_if_exposed(directory / LEAF_KEY)
    _warn_if_exposed(directory / ROOT_KEY)
    return SigningIdentity(
        directory=directory, leaf_pem=leaf_pem, root_pem=root_pem, key_pem=key_pem,
        subject=leaf.subject.rfc4514_string(), issuer=leaf.issuer.rfc4514_string(),
        fingerprint=fingerprint(leaf), not_after=leaf.not_valid_after_utc, algorithm=algorithm,
    )


def init_identity(force: bool = False, directory: Path | None = None
                  ) -> tuple[SigningIdentity, bool]:
    """Create the signing identity unless a usable one exists; returns it and whether
    anything was created. ``force`` replaces root and signer (files signed before then
    read back as "Valid", no longer "Trusted"). A missing or expired signer is
    re-issued from the existing root when its key is there, so the trust anchor stays."""
    default = directory is None
    directory = signing_dir() if directory is None else directory
    try:
        if default:
            signing_dir(create=True)  # the config dir too, 0700
        with _locked(directory):
            if not force:
                existing = load_identity(directory)
                if existing is not None and not existing.expired:
                    return existing, False
            root = None if force else _reusable_root(directory)
            if root is None:
                root_key, root_cert = _make_root()
                write_private(directory / ROOT_KEY, _key_pem(root_key))
                _write_public(directory / ROOT_CERT, _cert_pem(root_cert))
                log.info("created a root CA in %s", directory)
            else:
                root_key, root_cert = root
                log.info("re-issuing the signer from the existing root CA in %s", directory)
            leaf_key, leaf_cert = _make_leaf(root_key, root_cert)
            write_private(directory / LEAF_KEY, _key_pem(leaf_key))
            _write_public(directory / LEAF_CERT, _cert_pem(leaf_cert))
            identity = load_identity(directory)
    except OSError as e:
        raise OutputError(f"{directory}: cannot write the signing identity: "
                          f"{e.strerror or e}") from e
    assert identity is not None
    return identity, True


def ensure_identity() -> SigningIdentity:
    """The signing identity, made on first use so that every output can be signed."""
    identity, created = init_identity()
    if created:
        log.info("created a signing identity in %s (fingerprint %s)",
                 identity.directory, identity.fingerprint)
    return identity


def trusted_root_pem() -> bytes | None:
    """The user's root CA certificate, if there is a readable one: the trust anchor for
    reading. A damaged one is skipped with a warning (files then read as "Valid")."""
    path = signing_dir() / ROOT_CERT
    try:
        data = path.read_bytes()
        x509.load_pem_x509_certificate(data)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        why = e.strerror if isinstance(e, OSError) and e.strerror else "not a PEM certificate"
        log.warning("%s: cannot use it as trust anchor: %s", path, why)
        return None
    return data


def _algorithm(key: PrivateKeyTypes) -> str | None:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return {256: "es256", 384: "es384", 521: "es512"}.get(key.curve.key_size)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return "ed25519"
    if isinstance(key, rsa.RSAPrivateKey):
        return "ps256"
    return None


def _damaged(directory: Path, why: str) -> StreamganError:
    return StreamganError(f"{directory}: signing identity is damaged ({why}); "
                          "run `streamgan keys init --force` to replace it")


def _parse_cert(path: Path, data: bytes) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(data)
    except ValueError as e:
        raise _damaged(path.parent, f"{path.name} is not a PEM certificate") from e


def _warn_if_exposed(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except OSError:
        return
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("%s: private key is readable by others (mode %o); chmod 600 it",
                    path, stat.S_IMODE(mode))


def _reusable_root(directory: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate] | None:
    """The existing root CA and its key, when both are present, match and are in date."""
    try:
        cert = x509.load_pem_x509_certificate((directory / ROOT_CERT).read_bytes())
        key = serialization.load_pem_private_key((directory / ROOT_KEY).read_bytes(),
                                                 password=None)
    except (OSError, ValueError, TypeError):
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        return None
    if cert.not_valid_after_utc <= dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1):
        return None
    return key, cert


def _name(common_name: str) -> x509.Name:
    return x509.Name([
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORGANIZATION),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name),
    ])


def _short_id(key: ec.EllipticCurvePrivateKey) -> str:
    """A few hex digits of the public key, so two installations' names differ."""
    der = key.public_key().public_bytes(serialization.Encoding.DER,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:8]


def _validity(days: int) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)  # clock skew
    return start, start + dt.timedelta(days=days)


def _make_root() -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A P-256 CA that may issue end-entity certificates only (pathLen 0)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"streamgan local root CA {_short_id(key)}")
    start, end = _validity(ROOT_DAYS)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=False, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def _make_leaf(root_key: ec.EllipticCurvePrivateKey, root: x509.Certificate
               ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """The signer as C2PA's certificate profile wants it (checked against c2pa-python
    0.38): not a CA, issued by another certificate, key usage digitalSignature, and the
    emailProtection EKU (documentSigning passes the signer's own check but fails the
    library's default EKU trust configuration on validation), with SKI and AKI."""
    key = ec.generate_private_key(ec.SECP256R1())
    start, end = _validity(LEAF_DAYS)
    end = min(end, root.not_valid_after_utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(f"streamgan signer {_short_id(key)}"))
        .issuer_name(root.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start).not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, content_commitment=False, key_encipherment=False,
            data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
            encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]),
                       critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                       critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()),
                       critical=False)
        .sign(root_key, hashes.SHA256())
    )
    return key, cert


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write_public(path: Path, data: bytes) -> None:
    """Write a certificate atomically (readers never see half a PEM)."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive lock on the signing directory, so that two streamgan processes
    signing their first outputs at once do not make two identities."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    fd = os.open(directory / ".lock", os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
