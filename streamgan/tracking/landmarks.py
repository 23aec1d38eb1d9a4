"""Named MediaPipe FaceMesh landmark indices and the face measures built on them.

The measures (mouth opening, eye opening, head yaw/pitch/roll) are what the tests,
the sample generator and the engine all agree on, so they live here once.
Landmarks are ``(478, 3)`` float arrays in pixels: x right, y down, z (MediaPipe's
relative depth, scaled like x) away from the camera.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

Landmarks = NDArray[np.float64]
"""A ``(478, 3)`` array of face landmarks in pixel units."""

NUM_LANDMARKS = 478
"""FaceMesh with ``refine_landmarks=True``: 468 mesh points plus 2 x 5 iris points."""

# Subject's right eye is on the image's left.
RIGHT_EYE_UPPER = (246, 161, 160, 159, 158, 157, 173)
RIGHT_EYE_LOWER = (7, 163, 144, 145, 153, 154, 155)
RIGHT_EYE_CORNERS = (33, 133)
LEFT_EYE_UPPER = (466, 388, 387, 386, 385, 384, 398)
LEFT_EYE_LOWER = (249, 390, 373, 374, 380, 381, 382)
LEFT_EYE_CORNERS = (263, 362)
RIGHT_IRIS = (468, 469, 470, 471, 472)
LEFT_IRIS = (473, 474, 475, 476, 477)

# Upper-lid points that sit above a lower-lid point (same order as the lower lists).
EYELID_PAIRS = tuple(zip(RIGHT_EYE_UPPER, RIGHT_EYE_LOWER, strict=True)) + tuple(
    zip(LEFT_EYE_UPPER, LEFT_EYE_LOWER, strict=True)
)

RIGHT_EYEBROW = (70, 63, 105, 66, 107, 46, 53, 52, 65, 55)
LEFT_EYEBROW = (300, 293, 334, 296, 336, 276, 283, 282, 295, 285)

INNER_LIP_UPPER = (191, 80, 81, 82, 13, 312, 311, 310, 415)
INNER_LIP_LOWER = (95, 88, 178, 87, 14, 317, 402, 318, 324)
INNER_LIP_CORNERS = (78, 308)
INNER_LIP_RING = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308,
                  324, 318, 402, 317, 14, 87, 178, 88, 95)
"""The inner lip contour in order around the mouth opening."""

OUTER_LIP_RING = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291,
                  375, 321, 405, 314, 17, 84, 181, 91, 146)
MOUTH_CORNERS = (61, 291)

FACE_OVAL = (10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379,
             378, 400, 377, 152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127,
             162, 21, 54, 103, 67, 109)
"""The face outline in order, starting at the top of the forehead."""

EXPRESSIVE = tuple(sorted(set(
    RIGHT_EYE_UPPER + RIGHT_EYE_LOWER + LEFT_EYE_UPPER + LEFT_EYE_LOWER + RIGHT_IRIS
    + LEFT_IRIS + INNER_LIP_RING + OUTER_LIP_RING)))
"""Points that move fast and far with expression: lids, irises, lips."""

FOREHEAD = 10
CHIN = 152
NOSE_TIP = 1
NOSE_BRIDGE = 168
RIGHT_CHEEK = 234
LEFT_CHEEK = 454

RIGID = (33, 133, 263, 362, 168, 6, 197, 195, 5, 4, 1, 10, 151, 9, 8,
         234, 454, 127, 356, 93, 323, 21, 251, 54, 284, 103, 332, 116, 345, 123, 352)
"""Points that barely move with expression (eye corners, nose, forehead, cheekbones):
head pose is fitted on these so that a smile or an open mouth does not read as a nod."""


def interocular(lm: Landmarks) -> float:
    """Outer-eye-corner distance in the image plane: the face's size unit."""
    return float(np.linalg.norm(lm[33, :2] - lm[263, :2]))


def face_height(lm: Landmarks) -> float:
    """Forehead-to-chin distance in the image plane."""
    return float(np.linalg.norm(lm[FOREHEAD, :2] - lm[CHIN, :2]))


def mouth_opening(lm: Landmarks) -> float:
    """Inner-lip gap over mouth width: 0 closed, about 0.5 to 1 wide open."""
    gap = np.linalg.norm(lm[list(INNER_LIP_UPPER), :2] - lm[list(INNER_LIP_LOWER), :2], axis=1)
    width = np.linalg.norm(lm[INNER_LIP_CORNERS[0], :2] - lm[INNER_LIP_CORNERS[1], :2])
    return float(gap[2:7].mean() / max(width, 1e-6))


def eye_opening(lm: Landmarks) -> float:
    """Mean lid gap over eye width for both eyes (about 0.25 to 0.35 open, near 0 shut)."""
    values = []
    for upper, lower, corners in (
        (RIGHT_EYE_UPPER, RIGHT_EYE_LOWER, RIGHT_EYE_CORNERS),
        (LEFT_EYE_UPPER, LEFT_EYE_LOWER, LEFT_EYE_CORNERS),
    ):
        gap = np.linalg.norm(lm[list(upper), :2] - lm[list(lower), :2], axis=1)[2:5].mean()
        width = np.linalg.norm(lm[corners[0], :2] - lm[corners[1], :2])
        values.append(gap / max(width, 1e-6))
    return float(np.mean(values))


def mouth_width(lm: Landmarks) -> float:
    """Mouth-corner distance over interocular distance: rises with a smile."""
    return float(np.linalg.norm(lm[61, :2] - lm[291, :2]) / max(interocular(lm), 1e-6))


def head_axes(lm: Landmarks) -> NDArray[np.float64]:
    """Orthonormal head frame (rows: right, down, forward) from 3-D landmarks."""
    right = lm[LEFT_EYE_CORNERS[0]] - lm[RIGHT_EYE_CORNERS[0]]
    right = right + (lm[LEFT_CHEEK] - lm[RIGHT_CHEEK])
    down = lm[CHIN] - lm[FOREHEAD]
    right = right / np.linalg.norm(right)
    forward = np.cross(right, down)
    forward /= np.linalg.norm(forward)
    down = np.cross(forward, right)
    return np.stack([right, down, forward])


def head_angles(lm: Landmarks) -> tuple[float, float, float]:
    """Yaw, pitch and roll in degrees from 3-D landmarks (camera frame, y down).

    Absolute angles carry a per-face offset (faces are not symmetric about the axes
    used), so compare them over time or between frames of the same face.
    """
    r = head_axes(lm)
    forward = r[2]
    yaw = np.degrees(np.arctan2(forward[0], forward[2]))
    pitch = np.degrees(np.arctan2(-forward[1], np.hypot(forward[0], forward[2])))
    roll = np.degrees(np.arctan2(r[0][1], r[0][0]))
    return float(yaw), float(pitch), float(roll)
