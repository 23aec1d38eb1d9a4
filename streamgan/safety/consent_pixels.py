"""What a consent tag binds to: the image's decoded pixels and one face in it.

**Pixel hash** (defined here once, ``streamgan-pixels-v1``): SHA-256 over the UTF-8
header ``"streamgan-pixels-v1\\nmode=<mode>\\nsize=<w>x<h>\\n"``, then, for palette
images only, ``"palette=<palette mode>:<n>\\n"`` and the palette's bytes, then, when
the image declares a transparent colour, ``"transparency=<value>\\n"``, then the raw
bytes of the first frame exactly as Pillow decodes it (``Image.tobytes()``), before any
mode conversion, EXIF rotation or scaling. So metadata (text chunks, EXIF, ICC
profiles, comments, PNG compression level) can change freely, while changing one pixel
value changes the hash. Two caveats: 16-bit RGB PNGs are hashed as Pillow decodes them
(8 bits per channel), and a JPEG is hashed as this Pillow's libjpeg decodes it, so a
different JPEG decoder may see "changed pixels" (grant again then).

**Fingerprint**: the upright image in 8-bit gray, shrunk to 16x16 (256 bytes). Only
used to word a refusal: the exact hash differs but the thumbnails are close → the
pixels were edited; far apart → the tag was copied from another image.

**Face**: the face's bounding box from :func:`detect_still` on the upright image (as
the reenactment pipeline loads it), in units of 1/10000 of the width and height.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from streamgan.media.frame import RgbImage
from streamgan.media.image import ImageSource, image_file, open_image, read_image
from streamgan.tracking.facemesh import MIN_STILL_SIDE
from streamgan.tracking.landmarks import Landmarks

log = logging.getLogger(__name__)

PIXEL_HASH_VERSION = "streamgan-pixels-v1"
THUMB_SIDE = 16
SAME_PICTURE_MAX_DIFF = 12.0
"""Mean absolute gray difference (0-255) of the 16x16 thumbnails up to which two images
count as the same picture edited: a few changed pixels or a re-encode give 0-3, a
different photo 20 and more."""
BOX_SCALE = 10_000
SAME_FACE_MIN_IOU = 0.5
TARGET_MAX_SIDE = 1920
"""The size the reenactment pipeline loads targets at (``load_target``): faces are
looked for in the same picture the pipeline will animate."""

Box = tuple[int, int, int, int]
"""x0, y0, x1, y1 in 1/10000 of the image's width and height."""


@dataclass(frozen=True)
class PixelFacts:
    """One image's decoded pixels, summarised for binding and checking a tag."""

    sha256: str
    width: int
    height: int
    mode: str
    thumbnail: bytes = field(repr=False)
    upright: RgbImage = field(repr=False, compare=False)

    @property
    def thumbnail_b64(self) -> str:
        return base64.b64encode(self.thumbnail).decode("ascii")


def pixel_facts(source: ImageSource) -> PixelFacts:
    """Decode the image's bytes once for the hash, once (upright RGB) for thumbnail and
    faces: the same bytes both times (read once, when ``source`` is a path)."""
    file = image_file(source)
    with open_image(file, min_side=MIN_STILL_SIDE) as img:
        digest = pixel_digest(img)
        width, height, mode = img.width, img.height, img.mode
    upright = read_image(file, max_side=TARGET_MAX_SIDE)
    return PixelFacts(sha256=digest, width=width, height=height, mode=mode,
                      thumbnail=thumbnail(upright), upright=upright)


def pixel_digest(img: Image.Image) -> str:
    """The ``streamgan-pixels-v1`` hash of a loaded Pillow image (see the module doc)."""
    h = hashlib.sha256()
    h.update(f"{PIXEL_HASH_VERSION}\nmode={img.mode}\nsize={img.width}x{img.height}\n"
             .encode())
    if img.mode in ("P", "PA") and img.palette is not None:
        palette_mode = img.palette.mode
        palette = bytes(img.getpalette(palette_mode) or ())
        h.update(f"palette={palette_mode}:{len(palette)}\n".encode())
        h.update(palette)
    transparency = img.info.get("transparency")
    if transparency is not None:
        h.update(f"transparency={_canonical_transparency(transparency)}\n".encode())
    h.update(img.tobytes())
    return h.hexdigest()


def _canonical_transparency(value: object) -> str:
    if isinstance(value, bytes | bytearray):
        return "bytes:" + bytes(value).hex()
    if isinstance(value, tuple | list):
        return "tuple:" + ",".join(str(int(v)) for v in value)
    return "int:" + str(int(value))  # type: ignore[call-overload]


def thumbnail(rgb: RgbImage) -> bytes:
    """16x16 8-bit gray: a coarse picture of the image, blind to small edits."""
    gray = cv2.cvtColor(np.ascontiguousarray(rgb), cv2.COLOR_RGB2GRAY)
    small = cv2.resize(gray, (THUMB_SIDE, THUMB_SIDE), interpolation=cv2.INTER_AREA)
    return bytes(np.asarray(small, np.uint8).tobytes())


def decode_thumbnail(text: str) -> bytes:
    """A tag's thumbnail field back to bytes; ValueError unless 256 base64 bytes."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("thumbnail is not base64") from None
    if len(raw) != THUMB_SIDE * THUMB_SIDE:
        raise ValueError(f"thumbnail is {len(raw)} bytes, not {THUMB_SIDE * THUMB_SIDE}")
    return raw


def thumbnail_difference(a: bytes, b: bytes) -> float:
    """Mean absolute gray difference of two thumbnails (0 same, 255 opposite)."""
    x = np.frombuffer(a, np.uint8).astype(np.int16)
    y = np.frombuffer(b, np.uint8).astype(np.int16)
    return float(np.abs(x - y).mean())


def same_picture(a: bytes, b: bytes) -> bool:
    return thumbnail_difference(a, b) <= SAME_PICTURE_MAX_DIFF


def face_box(landmarks: Landmarks, width: int, height: int) -> Box:
    """The landmarks' bounding box, normalised to 0..10000 and clipped to the image."""
    x0, y0 = landmarks[:, 0].min() / width, landmarks[:, 1].min() / height
    x1, y1 = landmarks[:, 0].max() / width, landmarks[:, 1].max() / height

    def scaled(v: float) -> int:
        return int(round(min(max(float(v), 0.0), 1.0) * BOX_SCALE))

    return scaled(x0), scaled(y0), scaled(x1), scaled(y1)


def box_iou(a: Box, b: Box) -> float:
    """Intersection over union: 1 for the same box, 0 for disjoint ones."""
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def same_face(a: Box, b: Box) -> bool:
    return box_iou(a, b) >= SAME_FACE_MIN_IOU


FaceDetector = Callable[[RgbImage, int], list[Landmarks]]

_FACE_CACHE: OrderedDict[tuple[bytes, int], list[Box]] = OrderedDict()
_FACE_CACHE_SIZE = 32
_FACE_CACHE_LOCK = threading.Lock()  # live sessions may check consent from several threads


def face_boxes(facts: PixelFacts, max_faces: int,
               detector: FaceDetector | None = None) -> list[Box]:
    """Face boxes in the upright image, largest first, as the pipeline numbers them.

    Detection is deterministic for the same pixels, so results are cached by the
    upright pixels' hash: granting and then verifying the same image detects once.
    """
    if detector is None:
        from streamgan.tracking.facemesh import detect_still

        detector = detect_still
        key: tuple[bytes, int] | None = (
            hashlib.sha256(facts.upright.tobytes()).digest()
            + repr(facts.upright.shape).encode(), max_faces)
    else:
        key = None  # a caller's own detector: never mix its answers into the cache
    if key is not None:
        with _FACE_CACHE_LOCK:
            if key in _FACE_CACHE:
                _FACE_CACHE.move_to_end(key)
                return list(_FACE_CACHE[key])
    height, width = facts.upright.shape[:2]
    boxes = [face_box(lm, width, height) for lm in detector(facts.upright, max_faces)]
    if key is not None:
        with _FACE_CACHE_LOCK:
            _FACE_CACHE[key] = boxes
            while len(_FACE_CACHE) > _FACE_CACHE_SIZE:
                _FACE_CACHE.popitem(last=False)
    log.debug("found %d face(s): %s", len(boxes), boxes)
    return list(boxes)
