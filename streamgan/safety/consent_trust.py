"""Whose consent tags to believe: the trusted signers and what each is trusted for.

A signature only proves which key signed a tag; anyone can make a key. A tag counts
only when its key is trusted, from any of:

- the user's config directory: ``config_dir()/trusted/*.pub`` and ``*.json``
  (``streamgan consent trust FILE`` copies one there);
- the files listed in ``$STREAMGAN_TRUST`` (paths separated by ``:``);
- the files given to a command (``--trust FILE``).

A trust file is a PEM public key (trusted for any image), or a small JSON document
that can narrow the trust::

    {"public_key": "<PEM, or base64 of the raw key>", "name": "sample signer",
     "test_only": true, "images": ["<pixel hash>", ...],
     "files": ["<SHA-256 of a file's bytes>", ...], "comment": "..."}

``images`` (pixel hashes, see :mod:`streamgan.safety.consent_pixels`) means "trusted
only for tags on these images", ``files`` (SHA-256 of the whole file, as ``sha256sum``
prints it) "trusted only for tags on these training videos". A file with either list
is restricted for both kinds: one that lists only images vouches for no video, and
the reverse. ``test_only`` marks a key whose private half is public
(sample and test keys): it works, and every use is logged as a warning.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamgan.config import config_dir
from streamgan.errors import InputError, OutputError
from streamgan.media.atomic import atomic_output
from streamgan.media.container import check_input_file
from streamgan.safety.consent_keys import encode_public, fingerprint_raw, parse_public_key

log = logging.getLogger(__name__)

ENV_TRUST = "STREAMGAN_TRUST"
TRUSTED_DIRNAME = "trusted"
TRUST_SUFFIXES = (".pub", ".json")
_TRUST_FIELDS = frozenset({"public_key", "name", "test_only", "images", "files", "comment"})
_HASH_RE = re.compile(r"(?:sha256:)?([0-9a-fA-F]{64})")


@dataclass(frozen=True)
class TrustedSigner:
    """One trusted key, and what it is trusted for."""

    public_key: str
    """Base64 of the raw Ed25519 key, as tags carry it."""
    name: str
    source: Path
    test_only: bool = False
    images: frozenset[str] | None = None
    """Pixel hashes of the only images this key is trusted for."""
    files: frozenset[str] | None = None
    """SHA-256 of the bytes of the only files (training videos) this key is trusted for.
    With neither list the key is trusted for everything; with one, for what it lists."""

    @property
    def fingerprint(self) -> str:
        return fingerprint_raw(base64.b64decode(self.public_key))

    @property
    def restricted(self) -> bool:
        return self.images is not None or self.files is not None

    def vouches_for(self, pixel_sha256: str) -> bool:
        """Trusted for the image with these pixels."""
        return not self.restricted or pixel_sha256 in (self.images or ())

    def vouches_for_file(self, file_sha256: str) -> bool:
        """Trusted for the file (video) with these bytes: a trust file that lists only
        images must not silently cover videos."""
        return not self.restricted or file_sha256 in (self.files or ())

    def describe(self) -> str:
        return f"{self.name}{' (TEST ONLY)' if self.test_only else ''}"


def trusted_dir() -> Path:
    return config_dir() / TRUSTED_DIRNAME


def load_trust_file(path: Path) -> TrustedSigner:
    """Read a PEM/base64 public key or a JSON trust file; InputError if it is neither."""
    path = Path(path)
    check_input_file(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read trust file: {e}") from e
    name = path.name.removesuffix(".json").removesuffix(".trust").removesuffix(".pub")
    if text.lstrip().startswith("{"):
        return _json_trust(path, text, name)
    try:
        key = parse_public_key(text)
    except ValueError as e:
        raise InputError(f"{path}: not a public key or JSON trust file ({e})") from None
    return TrustedSigner(public_key=encode_public(key), name=name, source=path)


def _json_trust(path: Path, text: str, default_name: str) -> TrustedSigner:
    try:
        doc: Any = json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"{path}: trust file is not valid JSON ({e})") from None
    if not isinstance(doc, dict):
        raise InputError(f"{path}: trust file is not a JSON object")
    unknown = sorted(set(doc) - _TRUST_FIELDS)
    if unknown:  # a misspelt "images" must not silently mean "any image"
        raise InputError(f"{path}: unknown trust file field {unknown[0]!r} "
                         f"(known: {', '.join(sorted(_TRUST_FIELDS))})")
    if not isinstance(doc.get("public_key"), str):
        raise InputError(f"{path}: trust file has no \"public_key\" string")
    try:
        key = parse_public_key(doc["public_key"])
    except ValueError as e:
        raise InputError(f"{path}: bad \"public_key\" ({e})") from None
    name = doc.get("name", default_name)
    test_only = doc.get("test_only", False)
    if not isinstance(name, str) or not name.strip() or not name.isprintable():
        raise InputError(f"{path}: \"name\" must be a one-line string")
    if not isinstance(test_only, bool):
        raise InputError(f"{path}: \"test_only\" must be true or false")
    return TrustedSigner(public_key=encode_public(key), name=name.strip(), source=path,
                         test_only=test_only, images=_hashes(path, doc, "images", "pixel hash"),
                         files=_hashes(path, doc, "files", "file hash"))


def _hashes(path: Path, doc: dict[str, Any], field: str, what: str) -> frozenset[str] | None:
    """The hashes listed under ``field``; None when the field is absent."""
    if field not in doc:
        return None
    listed = doc[field]
    if not isinstance(listed, list) or not all(isinstance(h, str) for h in listed):
        raise InputError(f"{path}: \"{field}\" must be a list of {what}es")
    return frozenset(_hash(path, h, what) for h in listed)


def _hash(path: Path, text: str, what: str) -> str:
    match = _HASH_RE.fullmatch(text.strip())
    if not match:
        raise InputError(f"{path}: {text!r} is not a {what} (64 hex digits)")
    return match.group(1).lower()


def env_trust_files() -> list[Path]:
    value = os.environ.get(ENV_TRUST, "")
    return [Path(p) for p in value.split(os.pathsep) if p.strip()]


def trusted_signers(extra: Sequence[Path] = ()) -> list[TrustedSigner]:
    """Every trusted signer: config directory, then ``$STREAMGAN_TRUST``, then ``extra``.

    A broken file in the config directory is skipped with a warning (one bad file
    must not lock the user out); a named file that is missing or broken is an error.
    """
    signers: list[TrustedSigner] = []
    directory = trusted_dir()
    if directory.is_dir():
        for path in sorted(directory.iterdir()):
            if path.name.startswith(".") or path.suffix not in TRUST_SUFFIXES:
                continue
            try:
                signers.append(load_trust_file(path))
            except InputError as e:
                log.warning("ignoring trusted signer file: %s", e)
    for path in env_trust_files():
        try:
            signers.append(load_trust_file(path))
        except InputError as e:
            raise InputError(f"{e} (listed in ${ENV_TRUST})") from None
    signers.extend(load_trust_file(Path(p)) for p in extra)
    return signers


def install_trust(path: Path) -> tuple[Path, TrustedSigner, bool]:
    """Copy a trust file into the config directory; returns (copy, signer, newly added).

    The file keeps its name; a different file already under that name is an error
    rather than silently replaced (that would drop trust in someone else's key).
    """
    path = Path(path)
    signer = load_trust_file(path)  # only valid files get in
    data = path.read_bytes()
    name = path.name if path.suffix in TRUST_SUFFIXES else path.name + ".pub"
    dest = trusted_dir() / name
    if dest.exists():
        if dest.read_bytes() == data:
            return dest, signer, False
        raise OutputError(f"{dest}: a different trusted signer file already has this name; "
                          "remove it first or rename the new one")
    config_dir(create=True)
    dest.parent.mkdir(mode=0o700, exist_ok=True)
    with atomic_output(dest) as temp:
        temp.write_bytes(data)
    log.info("trusting %s (%s) from %s", signer.describe(), signer.fingerprint, dest)
    return dest, signer, True
