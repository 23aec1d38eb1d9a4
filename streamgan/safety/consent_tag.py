"""The consent tag: its fields, its canonical JSON, and its Ed25519 signature.

A tag is one JSON object (format ``streamgan-consent``, version 1). An **image tag**
binds the image's decoded pixels and one face in it::

    {"format": "streamgan-consent", "version": 1,
     "id": "<random UUID>", "subject": "<who consents>", "scopes": ["reenact", ...],
     "not_before": "YYYY-MM-DD" | null, "expires": "YYYY-MM-DD" | null,
     "created": "YYYY-MM-DDTHH:MM:SSZ",
     "image": {"sha256": "<pixel hash>", "width": W, "height": H, "mode": "RGB",
               "thumbnail": "<base64 16x16 gray>"},
     "face": {"index": N, "box": [x0, y0, x1, y1]},
     "signer": {"alg": "ed25519", "public_key": "<base64 raw 32 bytes>"},
     "signature": "<base64 Ed25519 signature>"}

A **file tag** (a training video) has the same fields, but instead of ``image`` and
``face`` it binds the file's exact bytes, hashed without decoding::

     "file": {"sha256": "<SHA-256 of every byte>", "bytes": N,
              "head_sha256": "<SHA-256 of the first min(N, 65536) bytes>"}

A tag has exactly one of the two bindings, and each parser accepts only its own kind
(:class:`TagKindError` otherwise), so no tag is ever valid as both. ``head_sha256``
only tells an edited video (same first bytes) from another video. Image tags grant
``reenact`` and ``stream``, file tags ``train``.

The signature covers the canonical JSON of every other field: keys sorted, no
whitespace (``separators=(",", ":")``), UTF-8, no floats. The tag is valid from
``not_before`` 00:00 UTC and expires at ``expires`` 00:00 UTC (the expiry day itself is
no longer covered). Box coordinates are in 1/10000 of the upright image's size.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import KW_ONLY, dataclass, replace
from datetime import date, datetime, timezone
from typing import Any, ClassVar, Literal, TypeAlias, TypeVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from streamgan.safety.consent_keys import (
    decode_public,
    encode_public,
    fingerprint_raw,
)
from streamgan.safety.consent_pixels import BOX_SCALE, Box, decode_thumbnail

TAG_FORMAT = "streamgan-consent"
TAG_VERSION = 1
SCOPES = ("reenact", "stream", "train")
"""What a subject can consent to: ``reenact`` their face driven by other motion in
files, ``stream`` the same in live streams, ``train`` their footage used to train a
model of their face."""
TRAIN_SCOPE = "train"
TagKind = Literal["image", "file"]
KIND_SCOPES: dict[TagKind, tuple[str, ...]] = {"image": ("reenact", "stream"),
                                               "file": (TRAIN_SCOPE,)}
"""The scopes a tag of each kind can grant: a face in a picture is animated, a
video's footage is trained on."""
KIND_NOUNS: dict[TagKind, str] = {"image": "an image", "file": "a video"}
KIND_PLURALS: dict[TagKind, str] = {"image": "images", "file": "videos"}
MAX_SUBJECT_CHARS = 200
HEAD_BYTES = 1 << 16
"""How many leading bytes of a file ``head_sha256`` covers."""

_CREATED_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HEX64_RE = re.compile(r"[0-9a-f]{64}")
_COMMON_FIELDS = frozenset({"format", "version", "id", "subject", "scopes", "not_before",
                            "expires", "created", "signer", "signature"})
_BINDING_FIELDS: dict[TagKind, frozenset[str]] = {"image": frozenset({"image", "face"}),
                                                  "file": frozenset({"file"})}


class TagFormatError(ValueError):
    """A tag that is not well-formed JSON of this format: it cannot be checked at all."""


_BINDING_TEXT: dict[TagKind, str] = {"image": "an image's pixels and face",
                                     "file": "a video's bytes"}


def _other(kind: TagKind) -> TagKind:
    return "file" if kind == "image" else "image"


class TagKindError(TagFormatError):
    """A tag of the other kind: an image's tag where a file's was expected, or the
    reverse (it was copied from another kind of file)."""

    def __init__(self, found: TagKind) -> None:
        super().__init__(f"a tag for {_BINDING_TEXT[found]}, "
                         f"not for {_BINDING_TEXT[_other(found)]}")
        self.found: TagKind = found

    def __reduce__(self) -> tuple[type[TagKindError], tuple[TagKind]]:
        return TagKindError, (self.found,)


@dataclass(frozen=True)
class ImageBinding:
    """The decoded pixels a tag belongs to (see :mod:`streamgan.safety.consent_pixels`)."""

    sha256: str
    width: int
    height: int
    mode: str
    thumbnail: str


@dataclass(frozen=True)
class FaceBinding:
    """Which face the subject is: its index (0 largest) and its box."""

    index: int
    box: Box


@dataclass(frozen=True)
class FileBinding:
    """The exact bytes of a file (a training video), so any edit voids the tag."""

    sha256: str
    size: int
    """Length in bytes (``"bytes"`` in the JSON)."""
    head_sha256: str
    """SHA-256 of the first ``min(size, HEAD_BYTES)`` bytes: tells edited from foreign."""


@dataclass(frozen=True)
class SignedTag:
    """What both kinds of tag share: who consents to what, when, and who signed it.

    Subclasses add their binding; signing and checking are the same for both.
    """

    id: str
    subject: str
    scopes: tuple[str, ...]
    not_before: date | None
    expires: date | None
    created: datetime
    signer_key: str
    """Base64 of the signer's raw Ed25519 public key."""
    signature: str = ""

    kind: ClassVar[TagKind]
    """Which binding the subclass has (not a field of the JSON: its fields tell)."""

    @property
    def signer_fingerprint(self) -> str:
        return fingerprint_raw(base64.b64decode(self.signer_key))

    def binding_dict(self) -> dict[str, Any]:
        """The JSON fields that say what the tag belongs to."""
        raise NotImplementedError

    def unsigned_dict(self) -> dict[str, Any]:
        return {
            "format": TAG_FORMAT,
            "version": TAG_VERSION,
            "id": self.id,
            "subject": self.subject,
            "scopes": list(self.scopes),
            "not_before": self.not_before.isoformat() if self.not_before else None,
            "expires": self.expires.isoformat() if self.expires else None,
            "created": self.created.astimezone(timezone.utc).strftime(_CREATED_FORMAT),
            **self.binding_dict(),
            "signer": {"alg": "ed25519", "public_key": self.signer_key},
        }

    def to_dict(self) -> dict[str, Any]:
        return {**self.unsigned_dict(), "signature": self.signature}

    def signed_bytes(self) -> bytes:
        """Exactly what the signature signs."""
        return canonical_json(self.unsigned_dict())

    def signature_valid(self) -> bool:
        """Whether ``signature`` is the embedded signer key's signature over the tag."""
        try:
            key = decode_public(self.signer_key)
            signature = base64.b64decode(self.signature, validate=True)
            key.verify(signature, self.signed_bytes())
        except (InvalidSignature, ValueError, binascii.Error):
            return False
        return True

    def valid_at(self, when: datetime) -> bool:
        return not self.not_yet_valid_at(when) and not self.expired_at(when)

    def not_yet_valid_at(self, when: datetime) -> bool:
        return self.not_before is not None and when < _midnight(self.not_before)

    def expired_at(self, when: datetime) -> bool:
        return self.expires is not None and when >= _midnight(self.expires)


@dataclass(frozen=True)
class ConsentTag(SignedTag):
    """One signed statement: SUBJECT lets the face in this image be used for SCOPES."""

    kind: ClassVar[TagKind] = "image"
    _: KW_ONLY
    image: ImageBinding
    face: FaceBinding

    def binding_dict(self) -> dict[str, Any]:
        return {"image": {"sha256": self.image.sha256, "width": self.image.width,
                          "height": self.image.height, "mode": self.image.mode,
                          "thumbnail": self.image.thumbnail},
                "face": {"index": self.face.index, "box": list(self.face.box)}}


@dataclass(frozen=True)
class FileConsentTag(SignedTag):
    """One signed statement: SUBJECT lets the footage in this exact file be used for
    SCOPES (``train``)."""

    kind: ClassVar[TagKind] = "file"
    _: KW_ONLY
    file: FileBinding

    def binding_dict(self) -> dict[str, Any]:
        return {"file": {"sha256": self.file.sha256, "bytes": self.file.size,
                         "head_sha256": self.file.head_sha256}}


AnyTag: TypeAlias = ConsentTag | FileConsentTag
_Tag = TypeVar("_Tag", bound=SignedTag)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


def canonical_json(obj: Any) -> bytes:
    """Sorted keys, no whitespace, UTF-8: one byte string per value, to sign and check."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def new_tag_id() -> str:
    return str(uuid.uuid4())


def sign_tag(tag: _Tag, key: Ed25519PrivateKey) -> _Tag:
    """``tag`` (either kind) with the signer set to ``key`` and signed by it."""
    unsigned = replace(tag, signer_key=encode_public(key.public_key()), signature="")
    signature = key.sign(unsigned.signed_bytes())
    return replace(unsigned, signature=base64.b64encode(signature).decode("ascii"))


def check_subject(subject: str) -> str:
    """Subjects end up in one-line messages: one printable line of sane length."""
    subject = subject.strip()
    if not subject:
        raise ValueError("the subject is empty")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise ValueError(f"the subject is longer than {MAX_SUBJECT_CHARS} characters")
    if not subject.isprintable():
        raise ValueError("the subject contains control characters")
    return subject


def check_scopes(scopes: Sequence[str], kind: TagKind | None = None) -> tuple[str, ...]:
    """Known scopes (for a tag of ``kind``, when given), each once, in the order given;
    ValueError otherwise."""
    if not scopes:
        raise ValueError("no scope given")
    allowed = SCOPES if kind is None else KIND_SCOPES[kind]
    unknown = [s for s in scopes if s not in allowed]
    if unknown:
        first = unknown[0]
        if kind is None or first not in SCOPES:
            raise ValueError(f"unknown scope {first!r} (known: {', '.join(allowed)})")
        raise ValueError(f"unknown scope {first!r} for {KIND_NOUNS[kind]} (known: "
                         f"{', '.join(allowed)}; {first!r} is for {KIND_PLURALS[_other(kind)]})")
    return tuple(dict.fromkeys(scopes))


def tag_from_dict(data: Any) -> ConsentTag:
    """Parse one image tag strictly; TagFormatError names the first thing wrong
    (TagKindError: it is a file tag).

    Strict means the parsed tag serialises back to exactly the canonical bytes of what
    was read, so the signature is checked over what the file really says.
    """
    common = _common_fields(data, "image")
    try:
        tag = ConsentTag(**common, image=_image(data["image"]), face=_face(data["face"]))
    except (ValueError, TypeError, KeyError) as e:
        raise TagFormatError(str(e)) from None
    return _canonical(tag, data)


def file_tag_from_dict(data: Any) -> FileConsentTag:
    """Parse one file (video) tag as strictly as :func:`tag_from_dict` does image tags
    (TagKindError: it is an image tag)."""
    common = _common_fields(data, "file")
    try:
        tag = FileConsentTag(**common, file=_file(data["file"]))
    except (ValueError, TypeError, KeyError) as e:
        raise TagFormatError(str(e)) from None
    return _canonical(tag, data)


def _common_fields(data: Any, kind: TagKind) -> dict[str, Any]:
    """The checked fields every tag has, as constructor arguments; the field set must be
    exactly that of a ``kind`` tag."""
    if not isinstance(data, dict):
        raise TagFormatError("a tag is not a JSON object")
    if data.get("format") != TAG_FORMAT:
        raise TagFormatError(f"format is {data.get('format')!r}, not {TAG_FORMAT!r}")
    if data.get("version") != TAG_VERSION or type(data.get("version")) is not int:
        raise TagFormatError(f"unsupported tag version {data.get('version')!r}")
    other = _other(kind)
    if set(data) == _COMMON_FIELDS | _BINDING_FIELDS[other]:
        raise TagKindError(other)
    fields = _COMMON_FIELDS | _BINDING_FIELDS[kind]
    extra = set(data) - fields
    missing = fields - set(data)
    if extra or missing:
        what = f"unknown field {sorted(extra)[0]!r}" if extra else \
            f"missing field {sorted(missing)[0]!r}"
        raise TagFormatError(what)
    try:
        return {
            "id": _tag_id(data["id"]),
            "subject": check_subject(_str(data["subject"], "subject")),
            "scopes": _scopes(data["scopes"]),
            "not_before": _date(data["not_before"], "not_before"),
            "expires": _date(data["expires"], "expires"),
            "created": _created(data["created"]),
            "signer_key": _signer(data["signer"]),
            "signature": _str(data["signature"], "signature"),
        }
    except (ValueError, TypeError, KeyError) as e:
        raise TagFormatError(str(e)) from None


def _canonical(tag: _Tag, data: dict[str, Any]) -> _Tag:
    if canonical_json(tag.to_dict()) != canonical_json(data):
        raise TagFormatError("a field is not in canonical form")
    return tag


def _str(value: Any, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} is not a string")
    return value


def _int(value: Any, name: str) -> int:
    if type(value) is not int:
        raise ValueError(f"{name} is not an integer")
    return value


def _tag_id(value: Any) -> str:
    text = _str(value, "id")
    if str(uuid.UUID(text)) != text:
        raise ValueError("id is not a lower-case UUID")
    return text


def _scopes(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ValueError("scopes is not a list of strings")
    if len(set(value)) != len(value) or not value:
        raise ValueError("scopes is empty or repeats a scope")
    return tuple(value)  # unknown scopes are kept: they grant nothing we check


def _date(value: Any, name: str) -> date | None:
    if value is None:
        return None
    text = _str(value, name)
    if not _DATE_RE.fullmatch(text):
        raise ValueError(f"{name} is not YYYY-MM-DD")
    return date.fromisoformat(text)


def _created(value: Any) -> datetime:
    text = _str(value, "created")
    return datetime.strptime(text, _CREATED_FORMAT).replace(tzinfo=timezone.utc)


def _image(value: Any) -> ImageBinding:
    if not isinstance(value, dict) or set(value) != {"sha256", "width", "height", "mode",
                                                     "thumbnail"}:
        raise ValueError("image is not {sha256, width, height, mode, thumbnail}")
    sha = _str(value["sha256"], "image.sha256")
    if not _HEX64_RE.fullmatch(sha):
        raise ValueError("image.sha256 is not 64 lower-case hex digits")
    thumb = _str(value["thumbnail"], "image.thumbnail")
    decode_thumbnail(thumb)
    return ImageBinding(sha256=sha, width=_int(value["width"], "image.width"),
                        height=_int(value["height"], "image.height"),
                        mode=_str(value["mode"], "image.mode"), thumbnail=thumb)


def _face(value: Any) -> FaceBinding:
    if not isinstance(value, dict) or set(value) != {"index", "box"}:
        raise ValueError("face is not {index, box}")
    index = _int(value["index"], "face.index")
    box = value["box"]
    if not isinstance(box, list) or len(box) != 4:
        raise ValueError("face.box is not four integers")
    x0, y0, x1, y1 = (_int(v, "face.box") for v in box)
    if index < 0 or not 0 <= x0 < x1 <= BOX_SCALE or not 0 <= y0 < y1 <= BOX_SCALE:
        raise ValueError("face index or box out of range")
    return FaceBinding(index=index, box=(x0, y0, x1, y1))


def _signer(value: Any) -> str:
    if not isinstance(value, dict) or value.get("alg") != "ed25519" or \
            set(value) != {"alg", "public_key"}:
        raise ValueError("signer is not {alg: ed25519, public_key}")
    key = _str(value["public_key"], "signer.public_key")
    decode_public(key)
    return key


def _file(value: Any) -> FileBinding:
    if not isinstance(value, dict) or set(value) != {"sha256", "bytes", "head_sha256"}:
        raise ValueError("file is not {sha256, bytes, head_sha256}")
    sha = _str(value["sha256"], "file.sha256")
    head = _str(value["head_sha256"], "file.head_sha256")
    if not _HEX64_RE.fullmatch(sha) or not _HEX64_RE.fullmatch(head):
        raise ValueError("file.sha256 or file.head_sha256 is not 64 lower-case hex digits")
    size = _int(value["bytes"], "file.bytes")
    if size < 1:
        raise ValueError("file.bytes is not a positive integer")
    return FileBinding(sha256=sha, size=size, head_sha256=head)
