"""Helpers shared by the consent tests (no tests here; the name keeps it among them).

Pictures are the public-domain Grace Hopper portrait that ships with matplotlib, a
side-by-side pair of it (two faces), and the sample target; MediaPipe sees real faces
in all of them, and detection results are cached per picture, so tests stay fast.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from streamgan.safety.consent_carrier import embedded_tags, write_embedded
from streamgan.safety.consent_keys import generate_keypair
from tests.conftest import SAMPLES, grace_hopper_rgb

TARGET = SAMPLES / "target.png"
SAMPLE_TRUST = SAMPLES / "consent" / "sample-signer.trust.json"

Rgb = NDArray[np.uint8]


@functools.cache
def hopper() -> Rgb:
    rgb = grace_hopper_rgb()
    rgb.setflags(write=False)
    return rgb


@functools.cache
def two_faces() -> Rgb:
    """Hopper and her mirror image side by side: two faces of the same size."""
    rgb = np.ascontiguousarray(np.concatenate([hopper(), hopper()[:, ::-1]], axis=1))
    rgb.setflags(write=False)
    return rgb


def save(path: Path, rgb: Rgb, **options: Any) -> Path:
    """Save with Pillow; the format follows the extension."""
    Image.fromarray(np.ascontiguousarray(rgb)).save(path, **options)
    return path


def pixels(path: Path) -> Rgb:
    """The pixels exactly as Pillow decodes the file."""
    with Image.open(path) as img:
        return np.asarray(img).copy()


@dataclass(frozen=True)
class Signer:
    key: Path
    pub: Path


def make_signer(directory: Path, name: str = "alice") -> Signer:
    files = generate_keypair(directory / name)
    return Signer(files.private, files.public)


def tags_in(path: Path) -> list[Any]:
    return embedded_tags(path)


def replace_tags(path: Path, tags: list[Any]) -> None:
    """Put ``tags`` into the file as they are: how a forger or a broken tool would."""
    write_embedded(path, tags, lambda _written: None)
