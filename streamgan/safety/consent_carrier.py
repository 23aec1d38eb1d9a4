"""Where consent tags travel: inside the image file, or in a sidecar next to it.

- **PNG**: an ``iTXt`` chunk with keyword ``streamgan-consent``, placed before the
  first ``IDAT``. Reading also accepts ``tEXt``/``zTXt``/compressed ``iTXt`` chunks
  under that keyword (what other tools may turn it into).
- **JPEG**: an APP10 segment whose data starts ``streamgan-consent\\0``, placed after
  the leading APP0 (JFIF) and APP1 (Exif, XMP) segments, so the offsets in an MPO's
  APP2 stay valid.
- **Anything else**, or on request: a sidecar ``IMAGE.consent.json`` beside the image.
  Training videos only ever use a sidecar (``VIDEO.mp4.consent.json``): their tags
  bind the file's bytes, which a tag inside would change.

Every carrier holds the same payload, ``{"format": "streamgan-consent-tags", "tags":
[tag, ...]}``: at most one tag per face. Tags are put into the file by splicing bytes:
the compressed image data is copied untouched, never decoded and re-encoded, and the
new file replaces the old one atomically and only after its pixels were checked.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from streamgan.errors import InputError, OutputError
from streamgan.media.atomic import atomic_output
from streamgan.media.image import ImageSource, image_file

log = logging.getLogger(__name__)

PAYLOAD_FORMAT = "streamgan-consent-tags"
PNG_KEYWORD = b"streamgan-consent"
JPEG_MARKER = 0xEA  # APP10; APP11 is C2PA's JUMBF, APP0/1/2 are JFIF, Exif/XMP, ICC/MPF
JPEG_IDENT = b"streamgan-consent\x00"
SIDECAR_SUFFIX = ".consent.json"
MAX_PAYLOAD_BYTES = 1 << 20
"""Refuse to inflate more than this: a tag is about 1 KB, a compressed chunk could be
a decompression bomb."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SEGMENT_MAX = 0xFFFF - 2
_LEADING_JPEG_APPS = (0xE0, 0xE1)

Container = Literal["png", "jpeg"]


@dataclass(frozen=True)
class FoundTag:
    """One tag as found: its JSON value, or why its carrier could not be read."""

    location: str
    data: Any = None
    error: str | None = None


def sidecar_path(image: Path) -> Path:
    """``photo.webp`` → ``photo.webp.consent.json``: the image's whole name, so
    ``a.png`` and ``a.jpg`` never share one."""
    return image.with_name(image.name + SIDECAR_SUFFIX)


def container_of(data: bytes) -> Container | None:
    """Which format can carry a tag inside, by the file's first bytes (not its name)."""
    if data.startswith(_PNG_SIGNATURE):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    return None


def can_embed(image: Path) -> bool:
    with open(image, "rb") as f:
        return container_of(f.read(8)) is not None


def encode_payload(tags: list[dict[str, Any]]) -> bytes:
    return json.dumps({"format": PAYLOAD_FORMAT, "tags": tags}, ensure_ascii=False,
                      sort_keys=True, separators=(",", ":")).encode("utf-8")


def decode_payload(raw: bytes) -> list[Any]:
    """The tags in a payload; ValueError if it is not one."""
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ValueError(f"not JSON ({e})") from None
    if not isinstance(doc, dict) or doc.get("format") != PAYLOAD_FORMAT or \
            not isinstance(doc.get("tags"), list):
        raise ValueError(f"not a {PAYLOAD_FORMAT} document")
    return list(doc["tags"])


def read_tags(source: ImageSource) -> list[FoundTag]:
    """Every tag for the image: those inside the file first, then the sidecar's."""
    file = image_file(source)
    image, data = file.path, file.data
    found: list[FoundTag] = []
    kind = container_of(data)
    payloads: list[tuple[str, bytes | ValueError]] = []
    try:
        if kind == "png":
            payloads = [(f"PNG {name} chunk", raw) for name, raw in _png_payloads(data)]
        elif kind == "jpeg":
            payloads = [("JPEG APP10 segment", raw) for raw in _jpeg_payloads(data)]
    except ValueError as e:
        raise InputError(f"{image}: damaged {kind.upper() if kind else 'image'} file ({e})") \
            from None
    side = _sidecar_payload(image)
    if side is not None:
        payloads.append(side)
    for location, raw in payloads:
        found.extend(_found(location, raw))
    return found


def read_sidecar(path: Path) -> list[FoundTag]:
    """The tags in ``path``'s sidecar only, without reading ``path`` (a large video)."""
    side = _sidecar_payload(Path(path))
    return _found(*side) if side is not None else []


def _sidecar_payload(path: Path) -> tuple[str, bytes] | None:
    side = sidecar_path(path)
    if not side.is_file():
        return None
    try:
        return f"sidecar {side.name}", side.read_bytes()
    except OSError as e:
        raise InputError(f"{side}: cannot read: {e.strerror or e}") from e


def _found(location: str, raw: bytes | ValueError) -> list[FoundTag]:
    try:
        if isinstance(raw, ValueError):
            raise raw
        return [FoundTag(location, tag) for tag in decode_payload(raw)]
    except ValueError as e:
        return [FoundTag(location, error=str(e))]


def embedded_tags(image: Path) -> list[Any]:
    """The tags inside the file only (what a new in-file grant adds to)."""
    return _carrier_tags(image, lambda f: not f.location.startswith("sidecar"))


def sidecar_tags(image: Path) -> list[Any]:
    return _carrier_tags(image, lambda f: f.location.startswith("sidecar"))


def _carrier_tags(image: Path, keep: Callable[[FoundTag], bool]) -> list[Any]:
    return [f.data for f in read_tags(image) if keep(f) and f.error is None]


def write_embedded(image: Path, tags: list[dict[str, Any]],
                   check: Callable[[Path], None]) -> Path:
    """Replace the tags inside ``image`` (PNG or JPEG) with ``tags``, atomically.

    ``check`` sees the finished temporary file before it replaces the image and
    raises to keep the original (the caller compares pixel hashes there). Returns the
    file written: the symlink's target when ``image`` is a symlink.
    """
    real = Path(image).resolve()
    data = real.read_bytes()
    payload = encode_payload(tags) if tags else None
    kind = container_of(data)
    try:
        if kind == "png":
            new = _png_with(data, payload)
        elif kind == "jpeg":
            new = _jpeg_with(data, payload)
        else:
            raise OutputError(f"{image}: only PNG and JPEG files can carry a consent tag "
                              "inside; use a sidecar")
    except ValueError as e:
        raise InputError(f"{image}: damaged {kind} file ({e})") from None
    mode = stat.S_IMODE(real.stat().st_mode)
    with atomic_output(real) as temp:
        temp.write_bytes(new)
        os.chmod(temp, mode)
        check(temp)
    log.info("wrote %d consent tag(s) into %s", len(tags), real)
    return real


def write_sidecar(image: Path, tags: list[dict[str, Any]]) -> Path:
    """Replace the sidecar's tags with ``tags`` (atomically); return the sidecar path."""
    side = sidecar_path(Path(image))
    doc = {"format": PAYLOAD_FORMAT, "tags": tags}
    with atomic_output(side) as temp:
        temp.write_text(json.dumps(doc, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    log.info("wrote %d consent tag(s) to %s", len(tags), side)
    return side


# -- PNG ---------------------------------------------------------------------------------------

def _png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of every chunk up to IEND, length and CRC included."""
    pos = len(_PNG_SIGNATURE)
    chunks: list[tuple[bytes, int, int]] = []
    while pos < len(data):
        if pos + 12 > len(data):
            raise ValueError("truncated chunk")
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length
        if end > len(data):
            raise ValueError(f"truncated {kind.decode('latin-1')} chunk")
        chunks.append((kind, pos, end))
        pos = end
        if kind == b"IEND":
            break
    return chunks


def _is_our_png_chunk(kind: bytes, body: bytes) -> bool:
    return kind in (b"tEXt", b"zTXt", b"iTXt") and body.startswith(PNG_KEYWORD + b"\x00")


def _png_text(kind: bytes, body: bytes) -> bytes | None:
    """The text of a tEXt/zTXt/iTXt chunk under our keyword; None for any other chunk."""
    if not _is_our_png_chunk(kind, body):
        return None
    rest = body[len(PNG_KEYWORD) + 1:]
    if kind == b"tEXt":
        return rest.decode("latin-1").encode("utf-8")
    if kind == b"zTXt":
        return _inflate(rest[1:]).decode("latin-1").encode("utf-8")
    if len(rest) < 2:
        raise ValueError("short iTXt chunk")
    compressed, text = rest[0], rest[2:]
    _language, _, text = text.partition(b"\x00")
    _translated, _, text = text.partition(b"\x00")
    return _inflate(text) if compressed else text


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, MAX_PAYLOAD_BYTES + 1)
    except zlib.error as e:
        raise ValueError(f"bad compressed text ({e})") from None
    if len(out) > MAX_PAYLOAD_BYTES:
        raise ValueError("compressed text too large")
    return out


def _png_payloads(data: bytes) -> list[tuple[str, bytes | ValueError]]:
    """Our chunks' texts (or why one cannot be read); ValueError for a broken PNG."""
    out: list[tuple[str, bytes | ValueError]] = []
    for kind, start, end in _png_chunks(data):
        try:
            text = _png_text(kind, data[start + 8:end - 4])
        except ValueError as e:
            out.append((kind.decode("ascii"), e))
            continue
        if text is not None:
            out.append((kind.decode("ascii"), text))
    return out


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    crc = zlib.crc32(kind + body) & 0xFFFFFFFF
    return len(body).to_bytes(4, "big") + kind + body + crc.to_bytes(4, "big")


def _png_with(data: bytes, payload: bytes | None) -> bytes:
    """``data`` without our text chunks, plus one iTXt chunk before the first IDAT."""
    chunks = _png_chunks(data)
    if not any(kind == b"IDAT" for kind, _, _ in chunks):
        raise ValueError("no image data")
    parts = [data[:len(_PNG_SIGNATURE)]]
    inserted = payload is None
    for kind, start, end in chunks:
        if _is_our_png_chunk(kind, data[start + 8:end - 4]):
            continue  # replaced, even when damaged
        if kind == b"IDAT" and not inserted:
            assert payload is not None
            parts.append(_png_chunk(b"iTXt", PNG_KEYWORD + b"\x00\x00\x00\x00\x00" + payload))
            inserted = True
        parts.append(data[start:end])
    parts.append(data[chunks[-1][2]:])  # anything after IEND stays as it was
    return b"".join(parts)


# -- JPEG --------------------------------------------------------------------------------------

def _jpeg_segments(data: bytes) -> tuple[list[tuple[int, int, int]], int]:
    """(marker, start, end) of the segments before the first scan, and where it starts."""
    pos = 2
    segments: list[tuple[int, int, int]] = []
    while True:
        start = pos
        if pos >= len(data) or data[pos] != 0xFF:
            raise ValueError(f"no marker at byte {pos}")
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes belong to the segment
            pos += 1
        if pos >= len(data):
            raise ValueError("truncated before the image data")
        marker = data[pos]
        pos += 1
        if marker in (0xDA, 0xD9):  # start of scan / end of image
            return segments, start
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # no length field
            segments.append((marker, start, pos))
            continue
        if pos + 2 > len(data):
            raise ValueError("truncated segment")
        length = int.from_bytes(data[pos:pos + 2], "big")
        if length < 2 or pos + length > len(data):
            raise ValueError(f"bad segment length at byte {pos}")
        pos += length
        segments.append((marker, start, pos))


def _is_ours(data: bytes, marker: int, start: int, end: int) -> bool:
    if marker != JPEG_MARKER:
        return False
    body = data[start:end].lstrip(b"\xff")[3:]
    return body.startswith(JPEG_IDENT)


def _jpeg_payloads(data: bytes) -> list[bytes]:
    segments, _ = _jpeg_segments(data)
    return [data[start:end].lstrip(b"\xff")[3 + len(JPEG_IDENT):]
            for marker, start, end in segments if _is_ours(data, marker, start, end)]


def _jpeg_with(data: bytes, payload: bytes | None) -> bytes:
    """``data`` without our APP10 segments, plus one after the leading APP0/APP1 ones."""
    segments, scan = _jpeg_segments(data)
    kept = [(m, s, e) for m, s, e in segments if not _is_ours(data, m, s, e)]
    at = 0
    while at < len(kept) and kept[at][0] in _LEADING_JPEG_APPS:
        at += 1
    parts = [data[:2]] + [data[s:e] for _, s, e in kept[:at]]
    if payload is not None:
        body = JPEG_IDENT + payload
        if len(body) > _JPEG_SEGMENT_MAX:
            raise OutputError("the consent tags do not fit in one JPEG segment; use a sidecar")
        parts.append(bytes((0xFF, JPEG_MARKER)) + (len(body) + 2).to_bytes(2, "big") + body)
    parts += [data[s:e] for _, s, e in kept[at:]]
    parts.append(data[scan:])
    return b"".join(parts)
