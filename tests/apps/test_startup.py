"""A target without consent for streaming stops the server before it listens."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from numpy.typing import NDArray
from PIL import Image

from apps.webrtc import ServeSettings, build_app
from streamgan.cli.main import main
from streamgan.safety.consent import ConsentError
from tests.apps.conftest import SAMPLE_TARGET
from tests.conftest import SAMPLE_TRUST, one_line_error


@pytest.fixture
def unconsented(tmp_path: Path, portrait: NDArray[np.uint8]) -> Path:
    path = tmp_path / "hopper.png"
    Image.fromarray(portrait).save(path)
    return path


def test_build_app_refuses_a_target_without_consent(unconsented: Path) -> None:
    with pytest.raises(ConsentError) as caught:
        build_app(ServeSettings(targets=(SAMPLE_TARGET, unconsented), trust=(SAMPLE_TRUST,)))
    assert str(unconsented) in str(caught.value)


def test_serve_refuses_a_target_without_consent(unconsented: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["serve", "--port", "0", "--target", str(unconsented),
                 "--trust", str(SAMPLE_TRUST)])
    assert code == 1
    one_line_error(capsys.readouterr().err, str(unconsented))


def test_sample_target_needs_its_trust_file(capsys: pytest.CaptureFixture[str]) -> None:
    """Without the sample signer trusted, even the sample's tag does not hold."""
    assert main(["serve", "--port", "0", "--target", str(SAMPLE_TARGET)]) == 1
    one_line_error(capsys.readouterr().err, str(SAMPLE_TARGET))


def test_duplicate_target_names_are_refused(tmp_path: Path) -> None:
    copy = tmp_path / "target.png"
    copy.write_bytes(SAMPLE_TARGET.read_bytes())
    with pytest.raises(Exception, match="also called 'target'"):
        build_app(ServeSettings(targets=(SAMPLE_TARGET, copy), trust=(SAMPLE_TRUST,)))
