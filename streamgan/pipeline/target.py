"""Loading the still target: any image Pillow reads, its chosen face, even sides."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from streamgan.engines.base import Target
from streamgan.errors import NoFaceError
from streamgan.media import read_image
from streamgan.tracking.facemesh import detect_still


def load_target(path: Path, face_index: int = 0, max_side: int = 1920) -> Target:
    """The target image (downscaled if huge, cropped to even sides) and its face.

    ``face_index`` 0 is the largest face in the image.
    """
    rgb = read_image(path, max_side=max_side)
    height, width = rgb.shape[:2]
    # yuv420p needs even sides; dropping one edge row/column moves nothing visibly.
    rgb = np.ascontiguousarray(rgb[: height - height % 2, : width - width % 2])
    faces = detect_still(rgb, max_faces=max(4, face_index + 1))
    if not faces:
        raise NoFaceError(f"{path}: no face found in the target image")
    if face_index >= len(faces):
        raise NoFaceError(
            f"{path}: --target-face-index {face_index} asked for, but the image has "
            f"{len(faces)} face{'s' if len(faces) != 1 else ''}"
        )
    return Target(image=rgb, landmarks=faces[face_index])
