"""Consent tags: no real face goes onto new motion without its subject's signed consent.

A consent tag is a signed statement "SUBJECT lets the face in this image be used for
SCOPES, from NOT_BEFORE until EXPIRES", bound to the image's decoded pixels and to one
face in it (:mod:`~streamgan.safety.consent_tag` has the format,
:mod:`~streamgan.safety.consent_pixels` the binding, :mod:`~streamgan.safety.consent_carrier`
where it is stored, :mod:`~streamgan.safety.consent_trust` whose signatures count).
Consent to train on a video (scope ``train``) is bound to the video file's bytes
instead and lives in :mod:`~streamgan.safety.consent_file`, re-exported here.

:func:`require_consent` is what every path that animates a real face calls first; it
returns a :class:`ConsentRecord` (its ``record_id`` is what provenance manifests and
watermarks refer to) or raises :class:`ConsentError` saying why not, with a
:class:`ConsentProblem` a program can tell apart.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from streamgan.errors import NoFaceError, OutputError
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
from streamgan.safety.consent_common import (
    ConsentError,
    ConsentProblem,
    ConsentRecord,
    TagReport,
    check_grant,
    check_period_and_scope,
    grant_hint,
    join,
    tag_reports,
    trusted_signer,
    utc,
    warn_if_test_only,
)
from streamgan.safety.consent_file import (
    FileConsentGrant,
    check_file_consent,
    grant_file_consent,
    inspect_file_consent,
    is_video,
    require_training_consent,
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
    KIND_SCOPES,
    SCOPES,
    TRAIN_SCOPE,
    ConsentTag,
    FaceBinding,
    ImageBinding,
    TagFormatError,
    TagKindError,
    new_tag_id,
    sign_tag,
    tag_from_dict,
)
from streamgan.safety.consent_trust import TrustedSigner, trusted_signers

log = logging.getLogger(__name__)

IMAGE_SCOPES = KIND_SCOPES["image"]

__all__ = [
    "IMAGE_SCOPES",
    "SCOPES",
    "TRAIN_SCOPE",
    "ConsentError",
    "ConsentGrant",
    "ConsentProblem",
    "ConsentRecord",
    "FileConsentGrant",
    "TagReport",
    "check_consent",
    "check_file_consent",
    "grant_consent",
    "grant_file_consent",
    "inspect_consent",
    "inspect_file_consent",
    "is_video",
    "require_consent",
    "require_training_consent",
]


@dataclass(frozen=True)
class ConsentGrant:
    """What :func:`grant_consent` did."""

    tag: ConsentTag
    written: Path
    """The image itself (tag inside) or its sidecar."""
    in_file: bool
    replaced: str | None
    """Id of the earlier tag for the same face that this one replaced."""


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
    fields = check_grant(image, "image", subject, scopes, not_before=not_before,
                         expires=expires, now=now, tag_id=tag_id)
    subject, scope_list = fields.subject, fields.scopes
    private = key if isinstance(key, Ed25519PrivateKey) else load_private_key(Path(key))
    facts = pixel_facts(image)
    boxes = face_boxes(facts, max(4, face_index + 1))
    if face_index >= len(boxes):
        raise NoFaceError(f"{image}: no face {face_index} to grant consent for "
                          f"(found {len(boxes)} face{'s' if len(boxes) != 1 else ''})")
    tag = sign_tag(ConsentTag(
        id=tag_id or new_tag_id(), subject=subject, scopes=scope_list,
        not_before=not_before, expires=expires, created=fields.created,
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
    if scope not in IMAGE_SCOPES:
        raise ValueError(f"unknown consent scope {scope!r} for an image (known: "
                         f"{', '.join(IMAGE_SCOPES)}; videos: require_training_consent)")
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
    when = utc(now)
    signers = trusted_signers(extra_trust)
    found = read_tags(file)
    hint = _grant_hint(image, scope, face_index)
    if not found:
        raise ConsentError(ConsentProblem.NO_TAG, image,
                           f"no consent tag (none in the file and no {sidecar_path(image).name})",
                           hint)
    parsed: list[tuple[str, ConsentTag]] = []
    damage: list[str] = []
    from_video: list[str] = []
    for item in found:
        if item.error is not None:
            damage.append(f"{item.location}: {item.error}")
            continue
        try:
            parsed.append((item.location, tag_from_dict(item.data)))
        except TagKindError:
            from_video.append(item.location)
        except TagFormatError as e:
            damage.append(f"{item.location}: {e}")
    for_face = [(where, tag) for where, tag in parsed if tag.face.index == face_index]
    if not for_face:
        if parsed:
            covered = sorted({tag.face.index for _, tag in parsed})
            raise ConsentError(ConsentProblem.OTHER_FACE, image,
                               f"the consent tag covers face {join(covered)}, "
                               f"not face {face_index}", hint)
        if from_video:
            raise ConsentError(ConsentProblem.FOREIGN_TAG, image,
                               f"the consent tag in {from_video[0]} binds a video's bytes, not "
                               "this image's pixels; it was copied from a video", hint)
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

    signer = trusted_signer(image, name, tag, signers, hint)
    if facts.sha256 != tag.image.sha256:
        if same_picture(decode_thumbnail(tag.image.thumbnail), facts.thumbnail):
            raise refuse(ConsentProblem.PIXELS_CHANGED,
                         f"the pixels changed since {name} was signed (edited image)")
        raise refuse(ConsentProblem.FOREIGN_TAG,
                     f"{name} belongs to another image ({tag.image.width}x{tag.image.height}); "
                     "it was copied onto this one")
    check_period_and_scope(image, name, tag, scope, when, hint)
    boxes = face_boxes(facts, max(4, face_index + 1), detector)
    if face_index >= len(boxes):
        raise refuse(ConsentProblem.OTHER_FACE,
                     f"{name} covers face {tag.face.index}, but the image has "
                     f"{len(boxes)} face{'s' if len(boxes) != 1 else ''} now")
    if not same_face(boxes[face_index], tag.face.box):
        raise refuse(ConsentProblem.OTHER_FACE,
                     f"face {face_index} is not the face {name} covers")
    warn_if_test_only(image, tag, signer)
    return ConsentRecord(
        id=tag.id, subject=tag.subject, scopes=tag.scopes,
        signer_fingerprint=tag.signer_fingerprint, signer_name=signer.name,
        test_only=signer.test_only, not_before=tag.not_before, expires=tag.expires,
        created=tag.created, face_index=face_index,
        face_box=(tag.face.box[0] / BOX_SCALE, tag.face.box[1] / BOX_SCALE,
                  tag.face.box[2] / BOX_SCALE, tag.face.box[3] / BOX_SCALE),
        pixels_sha256=tag.image.sha256, location=where,
    )


def _grant_hint(image: Path, scope: str | None, face_index: int) -> str:
    return grant_hint(image, scope or IMAGE_SCOPES[0], face_index)


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
    return tag_reports(found, tag_from_dict, signers)
