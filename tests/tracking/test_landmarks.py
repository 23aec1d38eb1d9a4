import cv2
import numpy as np

from streamgan.tracking import landmarks as L
from streamgan.tracking.facemesh import detect_still


def test_measures_tell_open_from_closed(portrait_landmarks: np.ndarray,
                                        astronaut_landmarks: np.ndarray) -> None:
    assert L.mouth_opening(portrait_landmarks) < 0.05
    assert L.mouth_opening(astronaut_landmarks) > 0.1
    assert 0.15 < L.eye_opening(portrait_landmarks) < 0.5


def test_head_roll_follows_image_rotation(portrait: np.ndarray,
                                          portrait_landmarks: np.ndarray) -> None:
    h, w = portrait.shape[:2]
    turned = cv2.warpAffine(portrait, cv2.getRotationMatrix2D((w / 2, h / 2), 15, 1.0), (w, h))
    roll0 = L.head_angles(portrait_landmarks)[2]
    roll1 = L.head_angles(detect_still(turned)[0])[2]
    # OpenCV's positive angle turns the picture counter-clockwise: roll goes negative.
    assert abs((roll1 - roll0) + 15) < 2.5
