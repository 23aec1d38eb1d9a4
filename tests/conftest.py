"""Shared fixtures: the public-domain portraits that ship inside installed packages."""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from numpy.typing import NDArray

from streamgan.tracking.landmarks import Landmarks

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"
SAMPLE_TRUST = SAMPLES / "consent" / "sample-signer.trust.json"
"""The test-only signer that vouches for samples/target.png and nothing else."""


def pytest_configure(config: pytest.Config) -> None:
    """Keys, certificates and trust made by the tests live in a throwaway config
    directory, never the developer's own (tests/safety gives each test a fresh one)."""
    import tempfile

    from streamgan.config import ENV_CONFIG_DIR

    os.environ[ENV_CONFIG_DIR] = tempfile.mkdtemp(prefix="streamgan-test-config-")
    os.environ.pop("STREAMGAN_TRUST", None)


@pytest.fixture(scope="session")
def test_signer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A consent signer for test images; returns its public key file (pass as trust)."""
    from streamgan.safety.consent_keys import generate_keypair

    return generate_keypair(tmp_path_factory.mktemp("signer") / "tests").public


def grant(image: Path, signer_pub: Path, face_index: int = 0) -> Path:
    """Give ``image`` a consent tag for reenact and stream from the test signer."""
    from streamgan.safety.consent import grant_consent

    key = signer_pub.with_suffix(".key")
    grant_consent(image, key, "test subject", ("reenact", "stream"), face_index=face_index)
    return image


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


def sample_script(name: str) -> ModuleType:
    """One of the scripts in ``samples/`` (not a package) loaded as a module, e.g. the
    hard-clip maker whose helpers the tests and benchmarks share."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, SAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fixed_watermark(patch: pytest.MonkeyPatch) -> None:
    """Give every output the same watermark payload, for tests that compare outputs of
    several runs or judge them with FaceMesh: a new random payload each run changes
    every frame a little, and FaceMesh's readings with them."""
    from streamgan.safety.watermark_payload import WatermarkPayload, consent_hash

    patch.setattr(WatermarkPayload, "new", classmethod(
        lambda cls, record=None: cls(output_id=7, consent=consent_hash(record))))


def cut_video(src: Path, dst: Path, frames: int, blank: range = range(0)) -> Path:
    """The first ``frames`` frames of ``src`` (no audio); frames in ``blank`` painted
    over so they show no face."""
    from streamgan.media import AudioPacket, VideoReader, VideoWriter

    with VideoReader(src, audio=False) as reader:
        info = reader.info
        with VideoWriter(dst, width=info.width, height=info.height, time_base=info.time_base,
                         rate=info.average_rate) as writer:
            for item in reader:
                if isinstance(item, AudioPacket):
                    continue
                if item.index >= frames:
                    break
                image = item.image.copy()
                if item.index in blank:
                    image[:] = 90
                writer.write_rgb(image, item.pts)
    return dst


def one_line_error(err: str, *needles: str) -> str:
    """Assert ``err`` is one ``streamgan: error:`` line, no traceback, containing the needles."""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("streamgan: error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0]
    return lines[0]


def torchrun_two(worker: Path, dumps: Path, *args: str, ok: bool = True
                 ) -> list[dict[str, Any]]:
    """Run ``worker`` under torchrun as two gloo processes on loopback; each rank writes
    ``rank{N}.json`` into ``dumps`` (``STREAMGAN_TEST_DUMP``): return both, rank order.
    ``ok``: the run must succeed (else: must fail, within the same bounded wait)."""
    import json
    import subprocess
    import sys

    dumps.mkdir(exist_ok=True)
    env = {**os.environ, "GLOO_SOCKET_IFNAME": "lo", "STREAMGAN_TEST_DUMP": str(dumps),
           "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc_per_node", "2", str(worker), *args]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=240)
    assert (done.returncode == 0) == ok, done.stderr[-3000:]
    assert sorted(p.name for p in dumps.iterdir()) == ["rank0.json", "rank1.json"]
    return [json.loads((dumps / f"rank{r}.json").read_text()) for r in (0, 1)]
