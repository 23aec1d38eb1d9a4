"""Consent to train on a video: a signed tag bound to the video file's exact bytes.

Training a personal face model (``streamgan train fsgan --videos DIR``) uses a
person's footage, so the trainer calls :func:`require_training_consent` for every
video first, and names the returned record in the model card. The tag (scope
``train``, see :mod:`~streamgan.safety.consent_tag`) binds the SHA-256 of the file's
bytes, hashed in chunks without decoding, so any edit to the file voids it. It lives
in the sidecar ``VIDEO.mp4.consent.json`` (:func:`~streamgan.safety.consent_carrier.sidecar_path`):
a tag inside the file would change the bytes it binds.

A file is a video when its name ends in one of
:data:`~streamgan.media.info.VIDEO_SUFFIXES` (what trainers search folders for), never
by failing to open as an image: a damaged image must not turn into a video. Trust is
the images' (:mod:`~streamgan.safety.consent_trust`): a trust file restricted to some
files' bytes (``files``) or images' pixels (``images``) vouches only for what it lists.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from streamgan.errors import InputError
from streamgan.media.container import check_input_file
from streamgan.media.info import VIDEO_SUFFIXES
from streamgan.safety.consent_carrier import FoundTag, read_sidecar, sidecar_path, write_sidecar
from streamgan.safety.consent_common import (
    ConsentError,
    ConsentProblem,
    ConsentRecord,
    TagReport,
    check_grant,
    check_period_and_scope,
    grant_hint,
    tag_reports,
    trusted_signer,
    utc,
    warn_if_test_only,
)
from streamgan.safety.consent_keys import load_private_key
from streamgan.safety.consent_tag import (
    HEAD_BYTES,
    TRAIN_SCOPE,
    FileBinding,
    FileConsentTag,
    TagFormatError,
    TagKindError,
    file_tag_from_dict,
    new_tag_id,
    sign_tag,
)
from streamgan.safety.consent_trust import TrustedSigner, trusted_signers

log = logging.getLogger(__name__)

_CHUNK = 1 << 20
WHOLE_FRAME = (0.0, 0.0, 1.0, 1.0)
"""A video record's ``face_box``: the consent covers the person in the whole footage."""


def is_video(path: str | Path) -> bool:
    """Whether consent for ``path`` binds its bytes (a video) rather than its pixels."""
    return Path(path).suffix.lower() in VIDEO_SUFFIXES


@dataclass(frozen=True)
class FileFacts:
    """What a file tag binds, read from the file's bytes in one pass."""

    sha256: str
    size: int
    head_sha256: str
    """Of the first ``min(size, HEAD_BYTES)`` bytes."""


def file_facts(path: Path) -> FileFacts:
    """Hash ``path`` in 1 MiB chunks: memory stays flat for videos of any size."""
    whole, head, size = hashlib.sha256(), hashlib.sha256(), 0
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                if size < HEAD_BYTES:
                    head.update(chunk[:HEAD_BYTES - size])
                whole.update(chunk)
                size += len(chunk)
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e
    return FileFacts(sha256=whole.hexdigest(), size=size, head_sha256=head.hexdigest())


def _head_sha256(path: Path, count: int) -> str:
    try:
        with open(path, "rb") as f:
            return hashlib.sha256(f.read(count)).hexdigest()
    except OSError as e:
        raise InputError(f"{path}: cannot read: {e.strerror or e}") from e


def _check_video(path: Path) -> None:
    check_input_file(path)
    if not is_video(path):
        raise InputError(f"{path}: not a video ({', '.join(VIDEO_SUFFIXES)}); consent to "
                         "train is bound to a video file's bytes")


@dataclass(frozen=True)
class FileConsentGrant:
    """What :func:`grant_file_consent` did."""

    tag: FileConsentTag
    written: Path
    """The sidecar."""
    replaced: str | None
    """Id of the earlier tag in the sidecar that this one replaced."""


def grant_file_consent(
    video: Path,
    key: Path | Ed25519PrivateKey,
    subject: str,
    scopes: Sequence[str] = (TRAIN_SCOPE,),
    *,
    not_before: date | None = None,
    expires: date | None = None,
    now: datetime | None = None,
    tag_id: str | None = None,
) -> FileConsentGrant:
    """Sign a ``train`` consent tag for ``video``'s bytes into ``VIDEO.consent.json``.

    The sidecar then holds this tag alone (a video has no faces to tell apart, so a
    new grant replaces the old one). Only ``train`` can be granted: InputError for
    ``reenact``/``stream``, which are granted on an image of the face.
    """
    video = Path(video)
    _check_video(video)
    fields = check_grant(video, "file", subject, scopes, not_before=not_before,
                         expires=expires, now=now, tag_id=tag_id)
    private = key if isinstance(key, Ed25519PrivateKey) else load_private_key(Path(key))
    facts = file_facts(video)
    tag = sign_tag(FileConsentTag(
        id=tag_id or new_tag_id(), subject=fields.subject, scopes=fields.scopes,
        not_before=not_before, expires=expires, created=fields.created, signer_key="",
        file=FileBinding(sha256=facts.sha256, size=facts.size, head_sha256=facts.head_sha256),
    ), private)
    replaced = _replaced(read_sidecar(video))
    written = write_sidecar(video, [tag.to_dict()])
    log.info("granted consent %s for %s (%s) to train on %s (%d bytes) in %s", tag.id,
             fields.subject, ",".join(fields.scopes), video, facts.size, written)
    return FileConsentGrant(tag=tag, written=written, replaced=replaced)


def _replaced(existing: list[FoundTag]) -> str | None:
    """The id of the first readable file tag being replaced; the rest are only logged."""
    replaced = None
    for item in existing:
        try:
            old = file_tag_from_dict(item.data) if item.error is None else None
        except TagFormatError as e:
            log.warning("dropping a consent tag that is not a video's (%s)", e)
            continue
        if old is None:
            log.warning("dropping a damaged consent sidecar (%s)", item.error)
        elif replaced is None:
            replaced = old.id
        else:
            log.info("dropping the earlier consent tag %s", old.id)
    return replaced


def require_training_consent(video: Path, extra_trust: Sequence[Path] = (),
                             now: datetime | None = None) -> ConsentRecord:
    """The consent that lets ``video``'s footage train a model of its subject's face.

    Call it before reading the video for training; the record's ``record_id`` belongs
    in the model card. Raises ConsentError (one line, ending with how to grant consent)
    when no tag holds: none, damaged or altered, untrusted signer, not valid now, no
    ``train`` scope, the video's bytes changed, or the tag was copied from another file.
    """
    record = check_file_consent(video, TRAIN_SCOPE, extra_trust=extra_trust, now=now)
    log.info("training consent %s for %s: %s, %s, signed by %s", record.record_id, video,
             record.subject, record.validity(), record.signer_name)
    return record


def check_file_consent(video: Path, scope: str | None, *, extra_trust: Sequence[Path] = (),
                       now: datetime | None = None) -> ConsentRecord:
    """Like :func:`require_training_consent`; ``scope`` None accepts any scope
    (``consent verify``).

    Checks, in order, stopping at the first failure: a tag exists, its signature holds,
    its signer is trusted for this video, the bytes are the ones it was signed for, it
    is valid now, and it grants ``scope``. When several tags are there, the first that
    holds wins.
    """
    video = Path(video)
    _check_video(video)
    when = utc(now)
    signers = trusted_signers(extra_trust)
    hint = grant_hint(video, scope or TRAIN_SCOPE)
    found = read_sidecar(video)
    if not found:
        raise _no_tag(video, hint)
    parsed: list[tuple[str, FileConsentTag]] = []
    damage: list[str] = []
    from_image: list[str] = []
    for item in found:
        try:
            if item.error is not None:
                raise TagFormatError(item.error)
            parsed.append((item.location, file_tag_from_dict(item.data)))
        except TagKindError:
            from_image.append(item.location)
        except TagFormatError as e:
            damage.append(f"{item.location}: {e}")
    if not parsed and from_image:
        raise ConsentError(ConsentProblem.FOREIGN_TAG, video,
                           f"the consent tag in {from_image[0]} binds an image's pixels, not "
                           "this video's bytes; it was copied from an image", hint)
    if not parsed:
        raise ConsentError(ConsentProblem.BAD_SIGNATURE, video,
                           f"the consent tag is damaged ({damage[0]})", hint)
    facts = file_facts(video)
    failures: list[ConsentError] = []
    for where, tag in parsed:
        try:
            return _check_tag(video, where, tag, facts, signers, scope, when, hint)
        except ConsentError as e:
            log.debug("consent tag %s in %s does not hold: %s", tag.id, where, e.reason)
            failures.append(e)
    raise failures[0]


def _no_tag(video: Path, hint: str) -> ConsentError:
    side = sidecar_path(video)
    where = f"an empty {side.name}" if side.exists() else f"no {side.name}"
    return ConsentError(ConsentProblem.NO_TAG, video, f"no consent tag ({where})", hint)


def _check_tag(video: Path, where: str, tag: FileConsentTag, facts: FileFacts,
               signers: Sequence[TrustedSigner], scope: str | None, when: datetime,
               hint: str) -> ConsentRecord:
    name = f"consent tag {tag.id[:8]}"

    def refuse(problem: ConsentProblem, reason: str) -> ConsentError:
        return ConsentError(problem, video, reason, hint)

    signer = trusted_signer(video, name, tag, signers, hint)
    if facts.sha256 != tag.file.sha256:
        head = _head_sha256(video, min(HEAD_BYTES, tag.file.size))
        if head == tag.file.head_sha256:
            raise refuse(ConsentProblem.BYTES_CHANGED,
                         f"the video's bytes changed since consent was granted ({name}: "
                         f"{tag.file.size} bytes then, {facts.size} now)")
        raise refuse(ConsentProblem.FOREIGN_TAG,
                     f"{name} belongs to another file ({tag.file.size} bytes, sha256 "
                     f"{tag.file.sha256[:12]}...); it was copied onto this video")
    check_period_and_scope(video, name, tag, scope, when, hint)
    warn_if_test_only(video, tag, signer)
    return ConsentRecord(
        id=tag.id, subject=tag.subject, scopes=tag.scopes,
        signer_fingerprint=tag.signer_fingerprint, signer_name=signer.name,
        test_only=signer.test_only, not_before=tag.not_before, expires=tag.expires,
        created=tag.created, face_index=0, face_box=WHOLE_FRAME, pixels_sha256="",
        location=where, file_sha256=tag.file.sha256, file_bytes=tag.file.size,
    )


def inspect_file_consent(video: Path, extra_trust: Sequence[Path] = ()) -> list[TagReport]:
    """Every tag in ``video``'s sidecar, parsed where possible; ConsentError if none."""
    video = Path(video)
    _check_video(video)
    signers = trusted_signers(extra_trust)
    found = read_sidecar(video)
    if not found:
        raise _no_tag(video, grant_hint(video, TRAIN_SCOPE))
    return tag_reports(found, file_tag_from_dict, signers)
