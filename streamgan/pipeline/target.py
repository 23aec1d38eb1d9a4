"""Loading the still target: any image Pillow reads, its chosen face, even sides.

A target that needs consent is read once into memory, and the consent check and the
engine see the same decoded pixels and the same face detection: nothing on disk is
looked at twice, so a file swapped after the check is never what gets animated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from streamgan.engines.base import Target
from streamgan.errors import NoFaceError
from streamgan.media.frame import RgbImage
from streamgan.media.image import ImageSource, image_file, read_image
from streamgan.safety.consent import ConsentRecord, require_consent
from streamgan.safety.consent_pixels import TARGET_MAX_SIDE, pixel_facts
from streamgan.tracking.facemesh import MIN_STILL_SIDE, detect_still
from streamgan.tracking.landmarks import Landmarks


@dataclass(frozen=True)
class CheckedTarget:
    """A target and the consent that allows it, both from one reading of the file."""

    target: Target
    consent: ConsentRecord


def load_target(source: ImageSource, face_index: int = 0, max_side: int = 1920) -> Target:
    """The target image (downscaled if huge, cropped to even sides) and its face.

    ``face_index`` 0 is the largest face in the image.
    """
    file = image_file(source)
    rgb = read_image(file, max_side=max_side, min_side=MIN_STILL_SIDE)
    return _target(file.path, rgb, _faces(rgb, face_index), face_index)


def load_consented_target(source: ImageSource, scope: str, *, face_index: int = 0,
                          max_side: int = 1920, trust: Sequence[Path] = ()
                          ) -> CheckedTarget:
    """The target, after checking it carries consent for ``scope``, from one read.

    Faces are detected once, on the pixels the consent check hashes; a missing face
    is reported before a missing consent, as :func:`load_target` would.
    """
    file = image_file(source)
    facts = pixel_facts(file)
    faces = _faces(facts.upright, face_index)
    _check_face(file.path, faces, face_index)

    def detected(rgb: RgbImage, max_faces: int) -> list[Landmarks]:
        return faces[:max_faces]

    consent = require_consent(file, scope, face_index=face_index, extra_trust=trust,
                              facts=facts, detector=detected)
    if max_side == TARGET_MAX_SIDE:
        return CheckedTarget(_target(file.path, facts.upright, faces, face_index), consent)
    return CheckedTarget(load_target(file, face_index, max_side), consent)


def _faces(rgb: RgbImage, face_index: int) -> list[Landmarks]:
    return detect_still(rgb, max_faces=max(4, face_index + 1))


def _target(path: Path, rgb: RgbImage, faces: list[Landmarks], face_index: int) -> Target:
    _check_face(path, faces, face_index)
    height, width = rgb.shape[:2]
    # yuv420p needs even sides; dropping one edge row/column moves nothing visibly.
    rgb = np.ascontiguousarray(rgb[: height - height % 2, : width - width % 2])
    return Target(image=rgb, landmarks=faces[face_index])


def _check_face(path: Path, faces: list[Landmarks], face_index: int) -> None:
    if not faces:
        raise NoFaceError(f"{path}: no face found in the target image")
    if face_index >= len(faces):
        raise NoFaceError(
            f"{path}: --target-face-index {face_index} asked for, but the image has "
            f"{len(faces)} face{'s' if len(faces) != 1 else ''}"
        )
