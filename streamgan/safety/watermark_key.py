"""The secret key that shapes the invisible watermark.

Everything a reader or forger would need is derived from one 32-byte secret: the
spreading sequence (the sign of every chip), which chips are sync pilots and which
carry which coded bit (the keyed permutation), and the MAC inside the payload.
Without the key the pattern is indistinguishable from low-level noise, its bits
cannot be read, and a forged mark fails the MAC.

The trade-off: watermarking is symmetric. Verifying needs the *same* key that
embedded, so whoever can check a video could also forge a mark. An organisation
that wants its outputs checked elsewhere shares the key with the checkers it
trusts (point ``$STREAMGAN_WATERMARK_KEY`` at the shared file); public,
asymmetric provenance is the job of the signed C2PA manifest, not of this mark.

By default the key lives in ``config_dir()/watermark.key`` (mode 0600), created
with random bytes on first use.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from streamgan.config import config_dir, write_private
from streamgan.errors import InputError

log = logging.getLogger(__name__)

KEY_BYTES = 32
KEY_FILE_NAME = "watermark.key"
ENV_WATERMARK_KEY = "STREAMGAN_WATERMARK_KEY"
"""Path of a key file that replaces the per-user one (an organisation's shared key)."""

_MIN_KEY_BYTES = 16
_LABEL_PREFIX = b"streamgan/watermark/v1/"


@dataclass(frozen=True)
class WatermarkKey:
    """A watermark secret. Build with :meth:`load_or_create` or :meth:`from_bytes`."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.secret) < _MIN_KEY_BYTES:
            raise ValueError(
                f"a watermark key needs at least {_MIN_KEY_BYTES} bytes, got {len(self.secret)}"
            )

    @classmethod
    def from_bytes(cls, data: bytes) -> WatermarkKey:
        """A key from raw secret bytes (32 random bytes; at least 16)."""
        return cls(bytes(data))

    @classmethod
    def generate(cls) -> WatermarkKey:
        """A fresh random key (not stored anywhere)."""
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def default_path(cls) -> Path:
        """Where :meth:`load_or_create` reads the key: the env override or the config dir."""
        explicit = os.environ.get(ENV_WATERMARK_KEY)
        return Path(explicit) if explicit else config_dir() / KEY_FILE_NAME

    @classmethod
    def load(cls, path: Path) -> WatermarkKey:
        """Read a key file: 32 raw bytes, or the same as hex text."""
        try:
            data = path.read_bytes()
        except OSError as e:
            raise InputError(f"{path}: cannot read watermark key ({e.strerror or e})") from e
        if len(data) != KEY_BYTES:
            try:
                data = bytes.fromhex(data.decode("ascii").strip())
            except (UnicodeDecodeError, ValueError) as e:
                raise InputError(
                    f"{path}: not a watermark key ({KEY_BYTES} bytes, raw or hex)"
                ) from e
        if len(data) < _MIN_KEY_BYTES:
            raise InputError(f"{path}: watermark key too short ({len(data)} bytes)")
        try:
            mode = path.stat().st_mode
        except OSError:
            mode = 0
        if mode & 0o077:
            log.warning("%s: watermark key is readable by other users (mode %o)", path,
                        mode & 0o777)
        return cls(data)

    @classmethod
    def load_or_create(cls) -> WatermarkKey:
        """The user's key: ``$STREAMGAN_WATERMARK_KEY`` if set (the file must exist),
        else ``config_dir()/watermark.key``, created 0600 with random bytes if missing."""
        path = cls.default_path()
        if os.environ.get(ENV_WATERMARK_KEY) or path.exists():
            return cls.load(path)
        return cls._create(path)

    @classmethod
    def _create(cls, path: Path) -> WatermarkKey:
        """Create the key file; if another process wins the race, use its key instead."""
        key = cls.generate()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        write_private(tmp, key.secret)
        try:
            os.link(tmp, path)  # atomic and fails if the file exists: first creator wins
        except FileExistsError:
            return cls.load(path)
        except OSError:  # no hard links on this file system
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        log.info("created watermark key %s (id %s)", path, key.key_id)
        return key

    def derive(self, label: str) -> bytes:
        """32 bytes for one use of the key (domain-separated HMAC-SHA256)."""
        return hmac.new(self.secret, _LABEL_PREFIX + label.encode(), hashlib.sha256).digest()

    def rng(self, label: str) -> np.random.Generator:
        """A deterministic PRNG seeded from :meth:`derive` (same key, same sequence)."""
        return np.random.Generator(np.random.PCG64(int.from_bytes(self.derive(label), "big")))

    def mac(self, message: bytes, nbytes: int) -> bytes:
        """A truncated HMAC-SHA256 of ``message`` under a key derived for MACs."""
        return hmac.new(self.derive("mac"), message, hashlib.sha256).digest()[:nbytes]

    @property
    def key_id(self) -> str:
        """A short public name for the key (logs, messages); reveals nothing of it."""
        return self.derive("key-id")[:4].hex()
