"""Shared fixtures: the public-domain portraits that ship inside installed packages."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray

from streamgan.tracking.landmarks import Landmarks

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"


def grace_hopper_rgb() -> NDArray[np.uint8]:
    import matplotlib
    from PIL import Image

    path = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "sample_data",
                        "grace_hopper.jpg")
    return np.asarray(Image.open(path).convert("RGB"))


@pytest.fixture(scope="session")
def portrait() -> NDArray[np.uint8]:
    """Grace Hopper (public domain), 512x600: a closed-mouth frontal face."""
    return grace_hopper_rgb()


@pytest.fixture(scope="session")
def portrait_landmarks(portrait: NDArray[np.uint8]) -> Landmarks:
    from streamgan.tracking.facemesh import detect_still

    faces = detect_still(portrait)
    assert len(faces) == 1
    return faces[0]


@pytest.fixture(scope="session")
def astronaut() -> NDArray[np.uint8]:
    """Eileen Collins (public domain, scikit-image), 512x512: an open smile."""
    skimage_data = pytest.importorskip("skimage.data")
    return np.asarray(skimage_data.astronaut())


@pytest.fixture(scope="session")
def astronaut_landmarks(astronaut: NDArray[np.uint8]) -> Landmarks:
    from streamgan.tracking.facemesh import detect_still

    return detect_still(astronaut)[0]
