"""What the watermark says: 64 bits naming the output, plus a keyed check.

Layout (big-endian, 8 bytes, shown as 16 hex digits by :attr:`WatermarkPayload.hex`):

======  ====  ===============================================================
bits    name  meaning
======  ====  ===============================================================
0-7     fmt   format version (:data:`PAYLOAD_VERSION`); lets the layout change
8-39    id    random 32-bit output id, logged with the output (and put in the
              C2PA manifest), so a detected mark leads back to one output
40-63   cons  first 24 bits of SHA-256 of the consent record id (0: none),
              so a mark can be matched to the consent record it was made under
======  ====  ===============================================================

What is embedded is these 64 bits plus a 24-bit keyed MAC (HMAC-SHA256 under the
watermark key, truncated): 88 message bits, then convolutionally coded
(:mod:`streamgan.safety.watermark_ecc`). The MAC is what makes "present" mean
present: a decoder fed noise always returns *some* 88 bits, and only 1 in 2**24
random ones pass, so false positives stay far below one in a million detections
even with the few sync hypotheses a detection tries; and nobody without the key
can produce a mark that passes.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from streamgan.safety.watermark_key import WatermarkKey

PAYLOAD_VERSION = 1
PAYLOAD_BITS = 64
MAC_BITS = 24
MESSAGE_BITS = PAYLOAD_BITS + MAC_BITS
"""Bits fed to the error-correcting code: the payload, then its MAC."""

_PAYLOAD_BYTES = PAYLOAD_BITS // 8
_MAC_BYTES = MAC_BITS // 8


def consent_hash(consent_record_id: str | None) -> int:
    """The 24-bit consent field for a consent record id (0 when there is none)."""
    if consent_record_id is None:
        return 0
    return int.from_bytes(hashlib.sha256(consent_record_id.encode()).digest()[:3], "big")


@dataclass(frozen=True)
class WatermarkPayload:
    """The 64 bits carried by every frame of one output."""

    output_id: int
    consent: int = 0
    version: int = PAYLOAD_VERSION

    def __post_init__(self) -> None:
        for name, value, bits in (("version", self.version, 8), ("output_id", self.output_id, 32),
                                  ("consent", self.consent, 24)):
            if not 0 <= value < 1 << bits:
                raise ValueError(f"{name} must fit in {bits} bits, got {value}")

    @classmethod
    def new(cls, consent_record_id: str | None = None) -> WatermarkPayload:
        """A payload for a new output: a random output id and the consent record's hash."""
        return cls(output_id=secrets.randbits(32), consent=consent_hash(consent_record_id))

    @classmethod
    def from_bytes(cls, data: bytes) -> WatermarkPayload:
        if len(data) != _PAYLOAD_BYTES:
            raise ValueError(f"a payload is {_PAYLOAD_BYTES} bytes, got {len(data)}")
        return cls(version=data[0], output_id=int.from_bytes(data[1:5], "big"),
                   consent=int.from_bytes(data[5:8], "big"))

    @classmethod
    def from_hex(cls, text: str) -> WatermarkPayload:
        """Parse :attr:`hex` back."""
        try:
            data = bytes.fromhex(text)
        except ValueError as e:
            raise ValueError(f"not a hex payload: {text!r}") from e
        return cls.from_bytes(data)

    def to_bytes(self) -> bytes:
        return (bytes([self.version]) + self.output_id.to_bytes(4, "big")
                + self.consent.to_bytes(3, "big"))

    @property
    def hex(self) -> str:
        """16 lowercase hex digits: version, output id, consent hash."""
        return self.to_bytes().hex()

    def matches_consent(self, consent_record_id: str | None) -> bool:
        """Whether this payload was made under ``consent_record_id`` (24-bit hash match)."""
        return self.consent == consent_hash(consent_record_id)

    def bits(self) -> NDArray[np.uint8]:
        """The 64 payload bits, most significant first."""
        return np.unpackbits(np.frombuffer(self.to_bytes(), np.uint8))

    def message_bits(self, key: WatermarkKey) -> NDArray[np.uint8]:
        """The 88 bits to embed: payload then keyed MAC."""
        data = self.to_bytes()
        return np.unpackbits(np.frombuffer(data + key.mac(data, _MAC_BYTES), np.uint8))


def parse_message(bits: NDArray[np.uint8], key: WatermarkKey) -> WatermarkPayload | None:
    """The payload in 88 decoded message bits, or None when the MAC does not match."""
    if bits.shape != (MESSAGE_BITS,):
        raise ValueError(f"expected {MESSAGE_BITS} bits, got shape {bits.shape}")
    data = np.packbits(bits.astype(np.uint8)).tobytes()
    body, tag = data[:_PAYLOAD_BYTES], data[_PAYLOAD_BYTES:]
    if not secrets.compare_digest(key.mac(body, _MAC_BYTES), tag):
        return None
    return WatermarkPayload.from_bytes(body)
