"""Consent tags: no real face goes onto new motion without its subject's signed consent.

A consent tag is a signed statement "SUBJECT lets the face in this image be used for
SCOPES, from NOT_BEFORE until EXPIRES", bound to the image's decoded pixels and to one
face in it (:mod:`~streamgan.safety.consent_tag` has the format,
:mod:`~streamgan.safety.consent_pixels` the binding, :mod:`~streamgan.safety.consent_carrier`
where it is stored, :mod:`~streamgan.safety.consent_trust` whose signatures count).

:func:`require_consent` is what every path that animates a real face calls first; it
returns a :class:`ConsentRecord` (its ``record_id`` is what provenance manifests and
watermarks refer to) or raises :class:`ConsentError` saying why not, with a
:class:`ConsentProblem` a program can tell apart.
"""

from __future__ import annotations

import logging
import shlex
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from enum import Enum
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from streamgan.errors import InputError, NoFaceError, OutputError, StreamganError
from streamgan.media.container import check_input_file
from streamgan.media.image import ImageSource, image_file
from streamgan.safety.consent_carrier import (
    can_embed,
    embedded_tags,
    read_tags,
    sidecar_path,
    sidecar_tags,
    write_embedded,
    write_sidecar,
)
from streamgan.safety.consent_keys import load_private_key
from streamgan.safety.consent_pixels import (
    BOX_SCALE,
    FaceDetector,
    PixelFacts,
    decode_thumbnail,
    face_boxes,
    pixel_digest,
    pixel_facts,
    same_face,
    same_picture,
)
from streamgan.safety.consent_tag import (
    SCOPES,
    ConsentTag,
    FaceBinding,
    ImageBinding,
    TagFormatError,
    check_scopes,
    check_subject,
    new_tag_id,
    sign_tag,
    tag_from_dict,
)
from streamgan.safety.consent_trust import TrustedSigner, trusted_signers

log = logging.getLogger(__name__)

__all__ = [
    "SCOPES",
    "ConsentError",
    "ConsentGrant",
    "ConsentProblem",
    "ConsentRecord",
    "TagReport",
    "check_consent",
    "grant_consent",
    "inspect_consent",
    "require_consent",
]


class ConsentProblem(Enum):
    """Why consent is refused; each one needs a different fix."""

    NO_TAG = "no-tag"
    BAD_SIGNATURE = "bad-signature"
    """The tag was altered after signing, or is damaged."""
    UNKNOWN_SIGNER = "unknown-signer"
    """Correctly signed, by a key not trusted (for this image)."""
    NOT_YET_VALID = "not-yet-valid"
    EXPIRED = "expired"
    SCOPE_NOT_GRANTED = "scope-not-granted"
    PIXELS_CHANGED = "pixels-changed"
    """The tag is this picture's, but its pixels were edited since."""
    FOREIGN_TAG = "foreign-tag"
    """The tag was made for a different image and copied onto this one."""
    OTHER_FACE = "other-face"
    """The tag covers a different face in the image."""


class ConsentError(StreamganError):
    """Consent for a face is missing or does not hold; one line, ending with the fix."""

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
    """A consent that holds: who, for what, until when, signed by whom, found where."""

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

    @property
    def record_id(self) -> str:
        """What a provenance manifest or watermark payload names: the tag's id."""
        return self.id

    def validity(self) -> str:
        start = f"from {self.not_before}" if self.not_before else "from signing"
        end = f"until {self.expires} 00:00 UTC" if self.expires else "with no expiry"
        return f"{start} {end}"


@dataclass(frozen=True)
class ConsentGrant:
    """What :func:`grant_consent` did."""

    tag: ConsentTag
    written: Path
    """The image itself (tag inside) or its sidecar."""
    in_file: bool
    replaced: str | None
    """Id of the earlier tag for the same face that this one replaced."""


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(timezone.utc)
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(timezone.utc)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def grant_consent(
    image: Path,
    key: Path | Ed25519PrivateKey,
    subject: str,
    scopes: Sequence[str],
    *,
    face_index: int = 0,
    not_before: date | None = None,
    expires: date | None = None,
    sidecar: bool = False,
    now: datetime | None = None,
    tag_id: str | None = None,
) -> ConsentGrant:
    """Sign a consent tag for face ``face_index`` of ``image`` and attach it.

    The tag goes inside PNG and JPEG files (pixels untouched, file replaced
    atomically), else, or with ``sidecar``, into ``IMAGE.consent.json``. An earlier
    tag for the same face in the same place is replaced. ``now`` and ``tag_id`` exist
    to make sample tags reproducible.
    """
    image = Path(image)
    check_input_file(image)
    if face_index < 0:
        raise ValueError(f"face_index must be >= 0, got {face_index}")
    if tag_id is not None and str(uuid.UUID(tag_id)) != tag_id:
        raise ValueError(f"tag_id must be a lower-case UUID, got {tag_id!r}")
    try:
        subject = check_subject(subject)
        scope_list = check_scopes(list(scopes))
    except ValueError as e:
        raise InputError(f"{image}: cannot grant consent: {e}") from None
    created = _utc(now).replace(microsecond=0)
    if not_before and expires and expires <= not_before:
        raise InputError(f"{image}: cannot grant consent: expiry {expires} is not after "
                         f"the start {not_before}")
    if expires and _midnight(expires) <= created:
        raise InputError(f"{image}: cannot grant consent: expiry {expires} is not in the future")
    private = key if isinstance(key, Ed25519PrivateKey) else load_private_key(Path(key))
    facts = pixel_facts(image)
    boxes = face_boxes(facts, max(4, face_index + 1))
    if face_index >= len(boxes):
        raise NoFaceError(f"{image}: no face {face_index} to grant consent for "
                          f"(found {len(boxes)} face{'s' if len(boxes) != 1 else ''})")
    tag = sign_tag(ConsentTag(
        id=tag_id or new_tag_id(), subject=subject, scopes=scope_list,
        not_before=not_before, expires=expires, created=created,
        image=ImageBinding(sha256=facts.sha256, width=facts.width, height=facts.height,
                           mode=facts.mode, thumbnail=facts.thumbnail_b64),
        face=FaceBinding(index=face_index, box=boxes[face_index]),
        signer_key="",
    ), private)
    in_file = not sidecar and can_embed(image)
    existing = embedded_tags(image) if in_file else sidecar_tags(image)
    kept, replaced = _other_faces(existing, face_index)
    tags = [*kept, tag.to_dict()]
    if in_file:
        def unchanged(written: Path) -> None:
            _check_same_pixels(image, written, facts)

        written = write_embedded(image, tags, unchanged)
    else:
        written = write_sidecar(image, tags)
    log.info("granted consent %s for %s (face %d, %s) in %s", tag.id, subject, face_index,
             ",".join(scope_list), written)
    return ConsentGrant(tag=tag, written=written, in_file=in_file, replaced=replaced)


def _other_faces(existing: list[Any], face_index: int) -> tuple[list[dict[str, Any]], str | None]:
    """The existing tags to keep (other faces) and the id of the one being replaced."""
    kept: list[dict[str, Any]] = []
    replaced = None
    for raw in existing:
        try:
            old = tag_from_dict(raw)
        except TagFormatError as e:
            log.warning("dropping a damaged consent tag (%s)", e)
            continue
        if old.face.index == face_index:
            replaced = old.id
        else:
            kept.append(old.to_dict())
    return kept, replaced


def _check_same_pixels(image: Path, written: Path, facts: PixelFacts) -> None:
    with Image.open(written) as img:
        img.load()
        digest = pixel_digest(img)
    if digest != facts.sha256:  # never expected: the image data is copied byte for byte
        raise OutputError(f"{image}: adding the consent tag would change the pixels; "
                          "the image was left as it was")


def require_consent(
    image: ImageSource,
    scope: str,
    *,
    face_index: int = 0,
    extra_trust: Sequence[Path] = (),
    now: datetime | None = None,
    facts: PixelFacts | None = None,
    detector: FaceDetector | None = None,
) -> ConsentRecord:
    """The consent that lets face ``face_index`` of ``image`` be used for ``scope``.

    Call it before putting a real face on new motion, with the :class:`ImageFile` (and
    its ``facts``) that will then be animated, so the pixels checked are the pixels
    used. Raises ConsentError (one line, ending with how to grant consent) when there
    is none that holds.
    """
    if scope not in SCOPES:
        raise ValueError(f"unknown consent scope {scope!r} (known: {', '.join(SCOPES)})")
    record = check_consent(image, scope, face_index=face_index, extra_trust=extra_trust,
                           now=now, facts=facts, detector=detector)
    log.info("consent %s: %s, %s, signed by %s", record.record_id, record.subject,
             record.validity(), record.signer_name)
    return record


def check_consent(
    source: ImageSource,
    scope: str | None,
    *,
    face_index: int = 0,
    extra_trust: Sequence[Path] = (),
    now: datetime | None = None,
    facts: PixelFacts | None = None,
    detector: FaceDetector | None = None,
) -> ConsentRecord:
    """Like :func:`require_consent`; ``scope`` None accepts any scope (``consent verify``).

    Checks, in order, stopping at the first failure: a tag for this face exists, its
    signature holds, its signer is trusted for this image, the pixels are the ones it
    was signed for, it is valid now, it grants ``scope``, and the face it covers is
    face ``face_index``. When several tags cover the face, the first that holds wins.
    """
    file = image_file(source)
    image = file.path
    when = _utc(now)
    signers = trusted_signers(extra_trust)
    found = read_tags(file)
    hint = _grant_hint(image, scope, face_index)
    if not found:
        raise ConsentError(ConsentProblem.NO_TAG, image,
                           f"no consent tag (none in the file and no {sidecar_path(image).name})",
                           hint)
    parsed: list[tuple[str, ConsentTag]] = []
    damage: list[str] = []
    for item in found:
        if item.error is not None:
            damage.append(f"{item.location}: {item.error}")
            continue
        try:
            parsed.append((item.location, tag_from_dict(item.data)))
        except TagFormatError as e:
            damage.append(f"{item.location}: {e}")
    for_face = [(where, tag) for where, tag in parsed if tag.face.index == face_index]
    if not for_face:
        if parsed:
            covered = sorted({tag.face.index for _, tag in parsed})
            raise ConsentError(ConsentProblem.OTHER_FACE, image,
                               f"the consent tag covers face {_join(covered)}, "
                               f"not face {face_index}", hint)
        raise ConsentError(ConsentProblem.BAD_SIGNATURE, image,
                           f"the consent tag is damaged ({damage[0]})", hint)
    facts = facts if facts is not None else pixel_facts(file)
    failures: list[ConsentError] = []
    for where, tag in for_face:
        try:
            return _check_tag(image, where, tag, facts, signers, scope, face_index, when,
                              hint, detector)
        except ConsentError as e:
            log.debug("consent tag %s in %s does not hold: %s", tag.id, where, e.reason)
            failures.append(e)
    raise failures[0]


def _check_tag(image: Path, where: str, tag: ConsentTag, facts: PixelFacts,
               signers: Sequence[TrustedSigner], scope: str | None, face_index: int,
               when: datetime, hint: str, detector: FaceDetector | None) -> ConsentRecord:
    name = f"consent tag {tag.id[:8]}"

    def refuse(problem: ConsentProblem, reason: str, fix: str = hint) -> ConsentError:
        return ConsentError(problem, image, reason, fix)

    if not tag.signature_valid():
        raise refuse(ConsentProblem.BAD_SIGNATURE,
                     f"{name} has a bad signature (altered after signing)")
    signer = _trusted_signer(image, name, tag, signers, hint)
    if facts.sha256 != tag.image.sha256:
        if same_picture(decode_thumbnail(tag.image.thumbnail), facts.thumbnail):
            raise refuse(ConsentProblem.PIXELS_CHANGED,
                         f"the pixels changed since {name} was signed (edited image)")
        raise refuse(ConsentProblem.FOREIGN_TAG,
                     f"{name} belongs to another image ({tag.image.width}x{tag.image.height}); "
                     "it was copied onto this one")
    if tag.not_yet_valid_at(when):
        raise refuse(ConsentProblem.NOT_YET_VALID, f"{name} is not valid before {tag.not_before}")
    if tag.expired_at(when):
        raise refuse(ConsentProblem.EXPIRED, f"{name} expired on {tag.expires}")
    if scope is not None and scope not in tag.scopes:
        raise refuse(ConsentProblem.SCOPE_NOT_GRANTED,
                     f"{name} grants {_join(tag.scopes)}, not {scope}")
    boxes = face_boxes(facts, max(4, face_index + 1), detector)
    if face_index >= len(boxes):
        raise refuse(ConsentProblem.OTHER_FACE,
                     f"{name} covers face {tag.face.index}, but the image has "
                     f"{len(boxes)} face{'s' if len(boxes) != 1 else ''} now")
    if not same_face(boxes[face_index], tag.face.box):
        raise refuse(ConsentProblem.OTHER_FACE,
                     f"face {face_index} is not the face {name} covers")
    if signer.test_only:
        log.warning("%s: consent %s rests on a TEST ONLY signer (%s, %s)", image, tag.id,
                    signer.name, signer.source)
    return ConsentRecord(
        id=tag.id, subject=tag.subject, scopes=tag.scopes,
        signer_fingerprint=tag.signer_fingerprint, signer_name=signer.name,
        test_only=signer.test_only, not_before=tag.not_before, expires=tag.expires,
        created=tag.created, face_index=face_index,
        face_box=(tag.face.box[0] / BOX_SCALE, tag.face.box[1] / BOX_SCALE,
                  tag.face.box[2] / BOX_SCALE, tag.face.box[3] / BOX_SCALE),
        pixels_sha256=tag.image.sha256, location=where,
    )


def _trusted_signer(image: Path, name: str, tag: ConsentTag,
                    signers: Sequence[TrustedSigner], hint: str) -> TrustedSigner:
    """The trust entry that vouches for this tag's signer on this tag's image.

    The tag's own (signed) pixel hash is what a restricted trust file is matched
    against; that it matches the image is checked right after.
    """
    same_key = [s for s in signers if s.public_key == tag.signer_key]
    for signer in same_key:
        if signer.vouches_for(tag.image.sha256):
            return signer
    if same_key:
        limited = same_key[0]
        raise ConsentError(ConsentProblem.UNKNOWN_SIGNER, image,
                           f"{name} is signed by {limited.describe()} ({tag.signer_fingerprint}), "
                           f"trusted only for other images by {limited.source}",
                           "or " + hint)
    raise ConsentError(ConsentProblem.UNKNOWN_SIGNER, image,
                       f"{name} is signed by {tag.signer_fingerprint}, not a trusted signer "
                       "(trust its key with: streamgan consent trust PUBFILE, or --trust FILE)",
                       "or " + hint)


def _grant_hint(image: Path, scope: str | None, face_index: int) -> str:
    command = (f"streamgan consent grant {shlex.quote(str(image))} --key KEY --subject NAME "
               f"--scope {scope or SCOPES[0]}")
    if face_index:
        command += f" --face-index {face_index}"
    return f"grant it with: {command}"


def _join(items: Sequence[object]) -> str:
    return ",".join(str(i) for i in items)


@dataclass(frozen=True)
class TagReport:
    """One tag as ``consent show`` describes it, checked only for signature and signer."""

    location: str
    raw: Any
    tag: ConsentTag | None
    error: str | None
    """Why the tag could not be parsed (then ``tag`` is None)."""
    signature_valid: bool
    signer: TrustedSigner | None
    """A trust entry for the signer's key, if any (it may be limited to other images)."""


def inspect_consent(image: Path, extra_trust: Sequence[Path] = ()) -> list[TagReport]:
    """Every tag attached to ``image``, parsed where possible; ConsentError if none."""
    image = Path(image)
    check_input_file(image)
    signers = trusted_signers(extra_trust)
    found = read_tags(image)
    if not found:
        raise ConsentError(ConsentProblem.NO_TAG, image,
                           f"no consent tag (none in the file and no {sidecar_path(image).name})",
                           _grant_hint(image, None, 0))
    reports = []
    for item in found:
        if item.error is not None:
            reports.append(TagReport(item.location, None, None, item.error, False, None))
            continue
        try:
            tag = tag_from_dict(item.data)
        except TagFormatError as e:
            reports.append(TagReport(item.location, item.data, None, str(e), False, None))
            continue
        match = [s for s in signers if s.public_key == tag.signer_key]
        vouching = [s for s in match if s.vouches_for(tag.image.sha256)]
        candidates = vouching or match
        signer = candidates[0] if candidates else None
        reports.append(TagReport(item.location, item.data, tag, None, tag.signature_valid(),
                                 signer))
    return reports
