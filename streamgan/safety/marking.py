"""Marking an output: the watermark in every frame, a signed C2PA manifest on the file.

Every path that writes or streams frames (``reenact`` files, the WebRTC app,
generated clips) takes an :class:`OutputMark` for its output and embeds its
watermark in each picture; file outputs are then signed with :func:`signed_output`.
The manifest's soft binding names the watermark payload, and both name the consent
record, so a mark found on a re-encoded copy still leads back to both.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from streamgan.errors import OutputError
from streamgan.media.atomic import atomic_output, check_output_path, remove_stale, reserve_temp
from streamgan.safety.consent import ConsentRecord
from streamgan.safety.provenance import CREATED, ProvenanceClaim, sign_video
from streamgan.safety.watermark import WatermarkEmbedder, WatermarkKey, WatermarkPayload


@dataclass(frozen=True)
class OutputMark:
    """The watermark key and payload of one output, and the consent behind it."""

    key: WatermarkKey
    payload: WatermarkPayload
    consent: ConsentRecord | None = None

    @staticmethod
    def new(consent: ConsentRecord | None, key: WatermarkKey | None = None) -> OutputMark:
        """A fresh payload (new output id) under the user's watermark key."""
        record = consent.record_id if consent is not None else None
        return OutputMark(key or WatermarkKey.load_or_create(), WatermarkPayload.new(record),
                          consent)

    def embedder(self, width: int, height: int) -> WatermarkEmbedder:
        """The per-frame embedder for pictures of this size (precomputed once)."""
        return WatermarkEmbedder(self.key, self.payload, width, height)

    def claim(self, action: str = CREATED, title: str | None = None) -> ProvenanceClaim:
        """What the file's C2PA manifest states about this output."""
        c = self.consent
        return ProvenanceClaim(
            action=action, watermark_payload=self.payload.hex, title=title,
            consent_record_id=c.record_id if c else None,
            consent_subject=c.subject if c else None,
            consent_signer=c.signer_fingerprint if c else None,
        )


@contextmanager
def signed_output(path: Path, claim: ProvenanceClaim) -> Iterator[Path]:
    """Yield a hidden path beside ``path`` for the finished, unsigned video; when the
    block succeeds, sign it into ``path`` atomically. On failure nothing is left
    under ``path`` and the unsigned file is removed."""
    check_output_path(path)
    remove_stale(path)
    unsigned = reserve_temp(path, role=".unsigned")
    try:
        with atomic_output(path) as signed:
            yield unsigned
            try:
                sign_video(unsigned, signed, claim)
            except (OSError, OutputError) as e:
                raise _signing_failed(path, unsigned, e) from e
    finally:
        unsigned.unlink(missing_ok=True)


def _signing_failed(path: Path, unsigned: Path, error: OSError | OutputError) -> OutputError:
    """One line naming the user's output. A full disk shows up inside the C2PA library
    as an opaque I/O error ("Io: Other: UntrackedPointer"), so free space is checked."""
    if isinstance(error, OSError):
        return OutputError(f"{path}: cannot write: {error.strerror or error}")
    try:
        stats = os.statvfs(path.parent)
        full = stats.f_bavail * stats.f_frsize < unsigned.stat().st_size
    except OSError:
        full = False
    if full:
        return OutputError(f"{path}: cannot write: no space left on the device for the signed "
                           "copy")
    return OutputError(f"{path}: {error}")
