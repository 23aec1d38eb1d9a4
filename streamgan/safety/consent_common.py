"""What image consent (:mod:`~streamgan.safety.consent`) and training-video consent
(:mod:`~streamgan.safety.consent_file`) share: why consent is refused, the error that
says so, the record of a consent that holds, and which trusted signer vouches for a tag.

It lives apart from both so that neither imports the other, and so that the two kinds
of check cannot drift apart in how they word refusals or treat signers.
"""

from __future__ import annotations

import logging
import shlex
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from streamgan.errors import InputError, StreamganError
from streamgan.safety.consent_carrier import FoundTag
from streamgan.safety.consent_tag import (
    KIND_PLURALS,
    AnyTag,
    ConsentTag,
    FileConsentTag,
    SignedTag,
    TagFormatError,
    TagKind,
    check_scopes,
    check_subject,
)
from streamgan.safety.consent_trust import TrustedSigner

log = logging.getLogger(__name__)


class ConsentProblem(Enum):
    """Why consent is refused; each one needs a different fix."""

    NO_TAG = "no-tag"
    BAD_SIGNATURE = "bad-signature"
    """The tag was altered after signing, or is damaged."""
    UNKNOWN_SIGNER = "unknown-signer"
    """Correctly signed, by a key not trusted (for this image or video)."""
    NOT_YET_VALID = "not-yet-valid"
    EXPIRED = "expired"
    SCOPE_NOT_GRANTED = "scope-not-granted"
    PIXELS_CHANGED = "pixels-changed"
    """The tag is this picture's, but its pixels were edited since."""
    BYTES_CHANGED = "bytes-changed"
    """The tag is this video's, but its bytes changed since (edited, trimmed, remuxed)."""
    FOREIGN_TAG = "foreign-tag"
    """The tag was made for a different image or video and copied onto this one."""
    OTHER_FACE = "other-face"
    """The tag covers a different face in the image."""


class ConsentError(StreamganError):
    """Consent for a face or video is missing or does not hold; one line, ending with
    the fix. ``image`` is the image or video checked."""

    def __init__(self, problem: ConsentProblem, image: Path, reason: str, fix: str) -> None:
        super().__init__(f"{image}: {reason}; {fix}")
        self.problem = problem
        self.image = image
        self.reason = reason
        self.fix = fix

    def __reduce__(self) -> tuple[type[ConsentError], tuple[ConsentProblem, Path, str, str]]:
        """Survives pickling, e.g. from a worker process."""
        return ConsentError, (self.problem, self.image, self.reason, self.fix)


@dataclass(frozen=True)
class ConsentRecord:
    """A consent that holds: who, for what, until when, signed by whom, found where.

    For a training video (``file_sha256`` set) there is no face or pixel binding:
    ``face_index`` is 0, ``face_box`` the whole frame and ``pixels_sha256`` empty.
    """

    id: str
    subject: str
    scopes: tuple[str, ...]
    signer_fingerprint: str
    signer_name: str
    test_only: bool
    """The signer's trust file says its private key is public (samples, tests)."""
    not_before: date | None
    expires: date | None
    created: datetime
    face_index: int
    face_box: tuple[float, float, float, float]
    """x0, y0, x1, y1 as fractions of the upright image's width and height."""
    pixels_sha256: str
    location: str
    file_sha256: str | None = None
    """SHA-256 of the training video's bytes that were checked (video consent only)."""
    file_bytes: int | None = None

    @property
    def record_id(self) -> str:
        """What a provenance manifest, watermark payload or model card names: the tag's id."""
        return self.id

    @property
    def kind(self) -> TagKind:
        return "file" if self.file_sha256 is not None else "image"

    def validity(self) -> str:
        start = f"from {self.not_before}" if self.not_before else "from signing"
        end = f"until {self.expires} 00:00 UTC" if self.expires else "with no expiry"
        return f"{start} {end}"


@dataclass(frozen=True)
class TagReport:
    """One tag as ``consent show`` describes it, checked only for signature and signer."""

    location: str
    raw: Any
    tag: AnyTag | None
    error: str | None
    """Why the tag could not be parsed (then ``tag`` is None)."""
    signature_valid: bool
    signer: TrustedSigner | None
    """A trust entry for the signer's key, if any (it may be limited to other files)."""


@dataclass(frozen=True)
class GrantFields:
    """The checked, shared parts of a new tag."""

    subject: str
    scopes: tuple[str, ...]
    created: datetime


def utc(now: datetime | None) -> datetime:
    """``now`` (timezone-aware) in UTC, or the current time."""
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone.utc)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def check_grant(path: Path, kind: TagKind, subject: str, scopes: Sequence[str], *,
                not_before: date | None, expires: date | None, now: datetime | None,
                tag_id: str | None) -> GrantFields:
    """Validate what a grant was asked for, before any key is read or byte hashed.

    A bad ``tag_id`` or ``now`` is the caller's bug (ValueError); the rest is the
    user's input (one-line InputError naming ``path``).
    """
    if tag_id is not None and str(uuid.UUID(tag_id)) != tag_id:
        raise ValueError(f"tag_id must be a lower-case UUID, got {tag_id!r}")
    try:
        subject = check_subject(subject)
        scope_list = check_scopes(list(scopes), kind)
    except ValueError as e:
        raise InputError(f"{path}: cannot grant consent: {e}") from None
    created = utc(now).replace(microsecond=0)
    if not_before and expires and expires <= not_before:
        raise InputError(f"{path}: cannot grant consent: expiry {expires} is not after "
                         f"the start {not_before}")
    if expires and _midnight(expires) <= created:
        raise InputError(f"{path}: cannot grant consent: expiry {expires} is not in the future")
    return GrantFields(subject=subject, scopes=scope_list, created=created)


def vouches(signer: TrustedSigner, tag: SignedTag) -> bool:
    """Whether ``signer`` is trusted for what ``tag`` itself (signed) says it binds."""
    if isinstance(tag, ConsentTag):
        return signer.vouches_for(tag.image.sha256)
    if isinstance(tag, FileConsentTag):
        return signer.vouches_for_file(tag.file.sha256)
    return False


def signer_entry(tag: SignedTag, signers: Sequence[TrustedSigner]) -> TrustedSigner | None:
    """The trust entry to show for the tag's key: one that vouches for it, else any."""
    same_key = [s for s in signers if s.public_key == tag.signer_key]
    return next((s for s in same_key if vouches(s, tag)), same_key[0] if same_key else None)


def tag_reports(found: Sequence[FoundTag], parse: Callable[[Any], AnyTag],
                signers: Sequence[TrustedSigner]) -> list[TagReport]:
    """A :class:`TagReport` for each found tag, parsed with ``parse``
    (``tag_from_dict`` for images, ``file_tag_from_dict`` for videos)."""
    reports = []
    for item in found:
        if item.error is not None:
            reports.append(TagReport(item.location, None, None, item.error, False, None))
            continue
        try:
            tag = parse(item.data)
        except TagFormatError as e:
            reports.append(TagReport(item.location, item.data, None, str(e), False, None))
            continue
        reports.append(TagReport(item.location, item.data, tag, None, tag.signature_valid(),
                                 signer_entry(tag, signers)))
    return reports


def trusted_signer(path: Path, name: str, tag: SignedTag, signers: Sequence[TrustedSigner],
                   hint: str) -> TrustedSigner:
    """The trust entry that vouches for this tag's signer on this tag's image or video,
    once its signature holds.

    The tag's own (signed) hash is what a restricted trust file is matched against;
    that it matches the file is checked right after.
    """
    if not tag.signature_valid():
        raise ConsentError(ConsentProblem.BAD_SIGNATURE, path,
                           f"{name} has a bad signature (altered after signing)", hint)
    signer = signer_entry(tag, signers)
    if signer is not None and vouches(signer, tag):
        return signer
    if signer is not None:
        raise ConsentError(ConsentProblem.UNKNOWN_SIGNER, path,
                           f"{name} is signed by {signer.describe()} ({tag.signer_fingerprint}), "
                           f"trusted only for other {KIND_PLURALS[tag.kind]} by {signer.source}",
                           "or " + hint)
    raise ConsentError(ConsentProblem.UNKNOWN_SIGNER, path,
                       f"{name} is signed by {tag.signer_fingerprint}, not a trusted signer "
                       "(trust its key with: streamgan consent trust PUBFILE, or --trust FILE)",
                       "or " + hint)


def check_period_and_scope(path: Path, name: str, tag: SignedTag, scope: str | None,
                           when: datetime, hint: str) -> None:
    """The tag is valid at ``when`` and grants ``scope`` (None: any)."""
    if tag.not_yet_valid_at(when):
        raise ConsentError(ConsentProblem.NOT_YET_VALID, path,
                           f"{name} is not valid before {tag.not_before}", hint)
    if tag.expired_at(when):
        raise ConsentError(ConsentProblem.EXPIRED, path, f"{name} expired on {tag.expires}",
                           hint)
    if scope is not None and scope not in tag.scopes:
        raise ConsentError(ConsentProblem.SCOPE_NOT_GRANTED, path,
                           f"{name} grants {join(tag.scopes)}, not {scope}", hint)


def warn_if_test_only(path: Path, tag: SignedTag, signer: TrustedSigner) -> None:
    if signer.test_only:
        log.warning("%s: consent %s rests on a TEST ONLY signer (%s, %s)", path, tag.id,
                    signer.name, signer.source)


def grant_hint(path: Path, scope: str, face_index: int = 0) -> str:
    """The end of every refusal: the command that grants what was missing."""
    command = (f"streamgan consent grant {shlex.quote(str(path))} --key KEY --subject NAME "
               f"--scope {scope}")
    if face_index:
        command += f" --face-index {face_index}"
    return f"grant it with: {command}"


def join(items: Sequence[object]) -> str:
    return ",".join(str(i) for i in items)
